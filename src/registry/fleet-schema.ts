/**
 * The fleet file (YAML): streets → communities → buildings → devices, plus operator accounts
 * and the impact data work-order priority uses. One schema; the types below are inferred from it.
 */
import { z } from 'zod';
import { DEVICE_KINDS, fleetAttributes } from '../../devices/index.js';

/** Longest id of a device, operator, building, ...: ids travel in topics, tags and client ids. */
export const MAX_ID_LENGTH = 64;

/** Ids travel in MQTT topics and InfluxDB tags: keep them to a safe alphabet. */
export const Id = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, dot, dash and underscore, starting with a letter or digit');

/** `scrypt$N$r$p$saltBase64$hashBase64`, as written by `hashSecret`. */
export const SecretHash = z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'expected scrypt$N$r$p$salt$hash (see `precall fleet`)');

export const DeviceEntry = z
  .object({
    id: Id,
    kind: z.enum(DEVICE_KINDS),
    secretHash: SecretHash,
    /** Where in the building: "1单元 地下车棚", "2单元 101". */
    location: z.string().max(200).optional(),
    /** The kind's own attributes (devices/<kind>/index.ts `fleet.attributes`). */
    ...fleetAttributes,
  })
  .strict();
export type DeviceEntry = z.infer<typeof DeviceEntry>;

export const Building = z
  .object({
    id: Id,
    name: z.string().min(1),
    /** Heating substation feeding this building (groups heat meters for peer and building rules). */
    substation: Id.optional(),
    households: z.number().int().min(0).default(0),
    floors: z.number().int().min(1).default(6),
    /** Residents aged 65 or over: raises the priority of lift and heating orders. */
    elderlyResidents: z.number().int().min(0).default(0),
    devices: z.array(DeviceEntry).default([]),
  })
  .strict();
export type Building = z.infer<typeof Building>;

export const Community = z.object({ id: Id, name: z.string().min(1), buildings: z.array(Building).default([]) }).strict();
export type Community = z.infer<typeof Community>;

export const Street = z.object({ id: Id, name: z.string().min(1), communities: z.array(Community).default([]) }).strict();
export type Street = z.infer<typeof Street>;

/** An MQTT topic filter (may use + and #). */
const TopicFilter = z.string().min(1).max(256);

export const Operator = z
  .object({
    username: Id,
    passwordHash: SecretHash,
    /** Topic filters this account may publish and subscribe to (read and write). */
    allow: z.array(TopicFilter).default([]),
    /** Topic filters this account may only subscribe to and receive (read). */
    read: z.array(TopicFilter).default([]),
    /** Topic filters this account may only publish to (write). */
    write: z.array(TopicFilter).default([]),
    /** Topic filters refused even when another filter grants them: never published, never delivered. */
    deny: z.array(TopicFilter).default([]),
    description: z.string().optional(),
  })
  .strict();
export type Operator = z.infer<typeof Operator>;

export const FleetFile = z
  .object({
    version: z.literal(1),
    district: z.string().default('燕山'),
    streets: z.array(Street).default([]),
    operators: z.array(Operator).default([]),
  })
  .strict();
export type FleetFile = z.infer<typeof FleetFile>;

/** credentials.json, written beside fleet.yaml by `precall fleet`, read by simulators and tests. */
export const CredentialsFile = z
  .object({
    devices: z.array(z.object({ id: Id, kind: z.enum(DEVICE_KINDS), secret: z.string().min(1) }).strict()),
    operators: z.array(z.object({ username: Id, password: z.string().min(1) }).strict()),
  })
  .strict();
export type CredentialsFile = z.infer<typeof CredentialsFile>;

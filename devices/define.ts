/**
 * The shape of a device-kind definition. Each folder under devices/ exports one of these from
 * its `index.ts`; ingest, storage, rules, work orders, complaints, the fleet generator and the
 * i18n catalogue read it, so every fact about a kind is written once, in its folder. The
 * simulator's behaviour model and the Grafana dashboard of a kind live in the same folder
 * (`simulator.ts`, `dashboard.ts`) but are registered separately (devices/simulators.ts,
 * devices/dashboards.ts) so that ingest never loads them.
 */
import type { z } from 'zod';

/** One text in both languages (Simplified Chinese first: crews and street offices read Chinese). */
export type Entry = { zh: string; en: string };

/** What the fleet generator and the priority rules know about a building (src/registry/fleet-schema.ts). */
export interface BuildingFacts {
  id: string;
  floors: number;
  households: number;
  elderlyResidents: number;
  substation?: string | undefined;
}

/** A priority reason: catalogue id, its params, and the points it adds to the order's score. */
export interface ImpactReason {
  id: string;
  params: Record<string, string | number>;
  points: number;
}

/** What a kind's impact function may look at when a signal or complaint of its kind opens an order. */
export interface ImpactContext {
  severity: string;
  caseClass: string;
  /** The rule marks a fire precursor (rules.yaml `fireRisk`). */
  fireRisk: boolean;
  /** Set for device orders; undefined for building or substation orders. */
  deviceId?: string | undefined;
  substation?: string | undefined;
  building?: BuildingFacts | undefined;
  /** The device's entry in the fleet file (its kind's attributes), when the order is about one device. */
  device?: Readonly<Record<string, unknown>> | undefined;
  /** Households fed by a substation: the sum over the buildings that name it. */
  householdsBehind(substation: string): number;
}

/** How the fleet generator (`precall fleet`, the demo) equips buildings with this kind. */
export type FleetPlacement =
  /** `count` devices in every building; `order` places the kind in the building's device rotation (lower first). */
  | { perBuilding: number; order: number }
  /** One device for every `everyBuildings` buildings, in the first building of each group (like substations). */
  | { everyBuildings: number };

export interface FleetSpec<A extends z.ZodRawShape = z.ZodRawShape> {
  /** The kind's own fields of a fleet-file device entry (ports, floors served, …). */
  attributes: A;
  /** Generated ids are `<idPrefix>-00001`, counted per kind. */
  idPrefix: string;
  placement: FleetPlacement;
  /** Location and attributes of the `n`-th generated device of this kind (from 1), in `building`. */
  make(n: number, building: BuildingFacts): { location: string } & { [K in keyof A]?: z.infer<A[K]> };
}

/** A 12345 complaint category about this kind of device. */
export interface ComplaintCategorySpec {
  /** 12345 deadline class of an order the complaint opens on its own (DOMAIN.md deadline table). */
  caseClass: 'utility-outage' | 'general';
  /** The category's name as call-takers and crews read it. */
  name: Entry;
}

export interface DeviceKindDefinition<
  T extends z.ZodObject = z.ZodObject,
  E extends z.ZodObject = z.ZodObject,
  A extends z.ZodRawShape = z.ZodRawShape,
> {
  /** Kind id, also the folder name and the `kind` tag in InfluxDB. */
  kind: string;
  /** The kind's name as people read it: the one source of kind names. */
  title: Entry;
  /** InfluxDB measurement for the device-level telemetry fields. */
  measurement: string;
  /** Schema of `devices/{id}/telemetry` payloads. */
  telemetry: T;
  /** Schema of `devices/{id}/events` payloads. */
  event: E;
  /**
   * Nominal interval between telemetry messages (heartbeat), seconds. Silence rules and the
   * simulator use it.
   */
  heartbeatSeconds: number;
  /**
   * Name of a telemetry field holding an array of sub-units stored as their own series
   * (charging-pile ports), with the element field that identifies the sub-unit.
   */
  subUnits?: { field: string; key: string; measurement: string };
  /**
   * Boolean telemetry fields (at any depth) that report an alarm when true, e.g. a pile's smoke
   * detector. A telemetry publish with one of them true passes ingest's back-pressure gate in
   * the events' lane (docs/broker.md), found by a scan of the raw payload before it is parsed.
   */
  alarmFlags?: readonly string[];
  /** Fleet-file attributes of a device of this kind and how the generator makes them. */
  fleet: FleetSpec<A>;
  /** Parties called in when an order of this kind escalates (吹哨报到), id → name, in call order. */
  parties: Record<string, Entry>;
  /** Complaint categories that are about this kind: a complaint of one links to its orders. */
  complaints: Record<string, ComplaintCategorySpec>;
  /** What raises the priority of this kind's orders beyond severity and case class. */
  impact(ctx: ImpactContext): ImpactReason[];
  /**
   * Texts of the kind's rules (`rule.<ruleId>.title` / `.description`, `.building` / `.substation`
   * for group signals) and of its priority reasons (`priority.reason.*`).
   */
  messages: Record<string, Entry>;
  /** Uid of the kind's Grafana dashboard (devices/<kind>/dashboard.ts), for links from the console. */
  dashboardUid: string;
}

export function defineKind<T extends z.ZodObject, E extends z.ZodObject, A extends z.ZodRawShape>(
  def: DeviceKindDefinition<T, E, A>,
): DeviceKindDefinition<T, E, A> {
  return def;
}

/** Priority for the elderly residents of a building (lifts and heat: they cannot take the stairs or the cold). */
export function elderlyReason(building: BuildingFacts | undefined): ImpactReason[] {
  if (building === undefined || building.elderlyResidents <= 0) return [];
  return [{ id: 'priority.reason.elderly', params: { elderly: building.elderlyResidents }, points: Math.min(20, Math.ceil(building.elderlyResidents / 2)) }];
}

/**
 * What every fault of a scenario file has: its target (which devices), when it starts and how
 * long it lasts. Its own module so that a kind's simulator (devices/<kind>/simulator.ts) can
 * declare its fault types without loading the scenario loader.
 */
import { z } from 'zod';
import { DEVICE_KINDS } from '../devices/index.js';
import { Id } from '../src/registry/fleet-schema.js';
import { Duration } from './duration.js';

/**
 * Which devices a fault hits. Fleet-independent forms (`kind` + `index`, `kind` +
 * `buildingIndex`) let one scenario file run against any generated fleet.
 */
export const Target = z
  .object({
    /** One device by id. */
    device: Id.optional(),
    /** Every device (of `kind`, when given) in a building, by building id. */
    building: Id.optional(),
    /** Device kind; with `index` or `buildingIndex`. */
    kind: z.enum(DEVICE_KINDS as [string, ...string[]]).optional(),
    /** The Nth device (from 0) of `kind` in fleet order; negative counts from the end (-1 = last). */
    index: z.number().int().optional(),
    /** The Nth building (from 0, fleet order; -1 = last) that has devices of `kind`: all of them. */
    buildingIndex: z.number().int().optional(),
  })
  .strict()
  .superRefine((t, ctx) => {
    const forms = [t.device !== undefined, t.building !== undefined, t.index !== undefined, t.buildingIndex !== undefined].filter(Boolean).length;
    if (forms === 0) {
      ctx.addIssue({ code: 'custom', path: ['device'], message: 'Required: give device, building, kind+index or kind+buildingIndex' });
    } else if (forms > 1) {
      ctx.addIssue({ code: 'custom', message: 'give only one of device, building, index, buildingIndex' });
    } else if ((t.index !== undefined || t.buildingIndex !== undefined) && t.kind === undefined) {
      ctx.addIssue({ code: 'custom', path: ['kind'], message: 'Required with index or buildingIndex' });
    }
  });
export type Target = z.infer<typeof Target>;

export const IsoTime = z.iso.datetime({ offset: true });

/** Fields every fault has: who, when it starts, how long it lasts. */
export const faultBase = {
  target: Target,
  /** Start, relative to the run start (`2h`, `1d6h`). Default 0. */
  startAfter: Duration.optional(),
  /** Start at an absolute time instead (ISO 8601 with offset). */
  startAt: IsoTime.optional(),
  /** How long the fault lasts; default: to the end of the run. */
  duration: Duration.optional(),
};


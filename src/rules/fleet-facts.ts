/**
 * What the engine knows about devices beyond their readings, read once from the registry and
 * devices/ and cached: a device's tags (place), its kind's context for rule kinds (heartbeat,
 * units) and street names for street-level texts.
 */
import { deviceKinds, type DeviceKind } from '../../devices/index.js';
import type { DeviceTags } from '../ingest/reading.js';
import type { Registry } from '../registry/registry.js';
import type { KindContext } from './kinds/types.js';
import { unitAt } from './load.js';

export class FleetFacts {
  private readonly tags = new Map<string, DeviceTags>();
  private readonly contexts = new Map<DeviceKind, KindContext>();
  private readonly streetNames: Map<string, string>;

  constructor(
    private readonly registry: Registry,
    /** When the engine started watching (epoch ms), for silence rules. */
    private readonly observedSince: number,
  ) {
    this.streetNames = new Map(registry.fleet.streets.map((st) => [st.id, st.name]));
  }

  /** A registered device's tags; undefined for a device the registry does not know. */
  tagsOf(deviceId: string): DeviceTags | undefined {
    let t = this.tags.get(deviceId);
    if (t === undefined) {
      const d = this.registry.device(deviceId);
      if (d === undefined) return undefined;
      t = { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation !== undefined ? { substation: d.substation } : {}) };
      this.tags.set(deviceId, t);
    }
    return t;
  }

  /** The context rule kinds get for a device of this kind. */
  contextOf(kind: DeviceKind): KindContext {
    let ctx = this.contexts.get(kind);
    if (ctx === undefined) {
      const units = new Map<string, string | undefined>();
      const def = deviceKinds[kind];
      ctx = {
        heartbeatSeconds: def.heartbeatSeconds,
        observedSince: this.observedSince,
        unitOf(path) {
          if (!units.has(path)) units.set(path, unitAt(def.telemetry, path) ?? unitAt(def.event, path));
          return units.get(path);
        },
      };
      this.contexts.set(kind, ctx);
    }
    return ctx;
  }

  /** The street's name, or its id when the fleet has none. */
  streetName(streetId: string): string {
    return this.streetNames.get(streetId) ?? streetId;
  }
}

/** Crew snapshots are coalesced: a storm of order events rebuilds each crew's snapshot a few times, not once per event. */
import { describe, expect, it } from 'vitest';
import { Registry } from '../../../src/registry/registry.js';
import type { Signal } from '../../../src/rules/signal.js';
import { createWorkOrders } from '../../../src/workorders/component.js';
import { syntheticFleet } from '../../../simulator/synthetic-fleet.js';

describe('a mass event for one crew', () => {
  it('opening and clearing 1,000 orders of one crew builds its snapshot a few times, not 2,000', async () => {
    const registry = new Registry(syntheticFleet({ chargers: 0, heatMeters: 0, elevators: 1000, hash: false }).fleet);
    const snapshots: number[] = [];
    const wo = createWorkOrders({
      dbPath: ':memory:',
      registry,
      clock: () => Date.parse('2026-12-01T00:00:00Z'),
      crewPublisher: {
        publish: async (topic, payload) => {
          if (topic.endsWith('/open')) snapshots.push((JSON.parse(String(payload)) as { orders: unknown[] }).orders.length);
        },
      },
    });
    const lifts = [...registry.devices.values()].filter((d) => d.kind === 'elevator');
    expect(lifts).toHaveLength(1000);
    const sig = (d: (typeof lifts)[number], state: Signal['state']): Signal => ({
      key: `lift-silent:${d.id}`,
      family: 'comms-loss',
      asset: { type: 'device', id: d.id },
      incident: `comms-loss@device:${d.id}`,
      state,
      ruleId: 'lift-silent',
      ruleKind: 'silence',
      deviceId: d.id,
      kind: 'elevator',
      building: d.building,
      community: d.community,
      street: d.street,
      severity: 'major',
      caseClass: 'general',
      at: 0,
      message: { id: 'rule.lift-silent', params: { device: d.id } },
      evidence: [],
    });
    for (const d of lifts) wo.onSignal(sig(d, 'raised'));
    for (const d of lifts) wo.onSignal(sig(d, 'cleared'));
    await wo.stop();
    // Everything happened within one turn of the event loop: one snapshot per crew, on stop.
    expect(snapshots.length).toBeGreaterThan(0);
    expect(snapshots.length).toBeLessThanOrEqual(3);
    expect(Math.max(...snapshots)).toBe(1000);
  }, 60_000);
});

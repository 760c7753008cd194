/**
 * Open work orders put straight into a work-order store, in one transaction, spread over the
 * registry's buildings and 20 crews: the console's board has something to read without opening
 * thousands of orders one by one (each delivered, each republishing its crew's snapshot), which
 * is not what the benchmarks measure. The orders belong to a rule id of their own (`bench`), so
 * no rule's signal joins one of them.
 */
import type { Registry } from '../src/registry/registry.js';
import type { WorkOrders } from '../src/workorders/component.js';

export function seedOpenOrders(workOrders: WorkOrders, registry: Registry, count: number, now = Date.now()): void {
  const buildings = [...registry.buildings.values()];
  if (buildings.length === 0) throw new Error('seedOpenOrders: the registry has no buildings');
  const store = workOrders.store;
  store.tx(() => {
    for (let i = 0; i < count; i++) {
      const b = buildings[i % buildings.length]!;
      const d = b.devices[i % b.devices.length]!;
      store.insert({
        source: 'rule', openKey: `bench:${i}`, ruleId: 'bench', deviceId: d.id, building: d.building, community: d.community, street: d.street, substation: d.substation ?? null,
        kind: d.kind, caseClass: 'general', severity: 'major', priority: (['P2', 'P3', 'P4'] as const)[i % 3]!, priorityScore: 40, title: `巡检发现问题 #${i}`, description: '', message: { id: 'bench', params: {} }, evidence: [],
        status: i % 4 === 0 ? 'acknowledged' : 'open', crew: `crew-${i % 20}`, createdAt: now - i * 60_000, updatedAt: now, count: 1, lastSeen: now, signalActive: true, clearedAt: null,
        ackDueAt: now + 3_600_000, resolveDueAt: now + (i % 200) * 3_600_000, acknowledgedAt: null, onSiteAt: null, resolvedAt: null, closedAt: null, escalationLevel: i % 7 === 0 ? 1 : 0, reminders: 0, lastReminderAt: null, levelReminders: 0, nextReminderAt: null, reopenCount: 0, rating: null, family: null, asset: null, port: null, signals: [],
      });
    }
  });
  // Orders put straight into the store have no reminder planned: the first tick would remind
  // about all of them at once (a backlog a running precall does not have). One tick settles them.
  workOrders.tick();
}

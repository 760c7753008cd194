/**
 * Every fault scenario the simulator ships raises its signal before the scenario's complaint
 * time, with the shipped default rules, driving the behaviour models in-process (the lead adds the
 * through-the-broker version). Prints the lead time of each. Also: no signal about any device the
 * scenario did not touch (a false alarm is a bug).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenarioFile } from '../../simulator/scenario.js';
import { runSimulation, WINTER_START } from './rules-harness.js';

const DIR = join(import.meta.dirname, '../../simulator/scenarios');
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

/** Rules that answer each shipped scenario (a scenario not listed may be answered by any rule). */
const EXPECTED: Record<string, string[]> = {
  'device-silent': ['charger-silent'],
  'heat-flow-blockage': ['heat-flow-decay', 'heat-valve-abnormal'],
  'heat-low-delta-t': ['heat-low-delta-t'],
  'heat-sensor-short': ['heat-sensor-fault', 'heat-volume-without-heat'],
  'lift-door-faults': ['lift-door-faults'],
  'lift-entrapment': ['lift-entrapment'],
  'lift-out-of-service': ['lift-out-of-service'],
  overcharge: ['charger-overcharge', 'charger-session-over-8h', 'charger-port-temp-rising'],
  'port-overheat': ['charger-port-temp-rising', 'charger-port-hot', 'charger-port-overtemp'],
  'relay-welded': ['charger-relay-welded', 'charger-overcharge'],
  'shed-power-loss': ['charger-power-cut', 'charger-silent'],
  'substation-supply-drop': ['heat-supply-low'],
};

const fmt = (ms: number) => `${Math.floor(ms / 3_600_000)}h${String(Math.round((ms % 3_600_000) / 60_000)).padStart(2, '0')}m`;

describe('shipped scenarios raise their signal before the complaint', () => {
  it('has scenarios to check', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  for (const file of files) {
    it(file, () => {
      const scenario = loadScenarioFile(join(DIR, file));
      // A zero-length run resolves the scenario's targets and times against the fleet.
      const probe = runSimulation({ chargers: 8, heatMeters: 300, elevators: 8, durationMs: 0, scenario });
      const complaintAt = probe.scenario!.complaint.atMs;
      const start = Math.min(...probe.scenario!.faults.map((f) => f.startMs));
      const targets = new Set(probe.scenario!.faults.flatMap((f) => f.deviceIds));
      const run = runSimulation({ chargers: 8, heatMeters: 300, elevators: 8, durationMs: complaintAt - WINTER_START, scenario });
      expect(run.rejected).toEqual([]);
      const touches = (s: (typeof run.signals)[number]) => (s.deviceId !== undefined ? targets.has(s.deviceId) : (s.devices ?? []).some((d) => targets.has(d)));
      const raised = run.signals.filter((s) => s.state === 'raised');
      const answer = raised.filter((s) => touches(s) && (EXPECTED[scenario.name] ?? [s.ruleId]).includes(s.ruleId)).sort((a, b) => a.at - b.at)[0];
      const falseAlarms = raised.filter((s) => !touches(s)).map((s) => `${s.key} at ${new Date(s.at).toISOString()}`);
      const lead = answer !== undefined ? complaintAt - answer.at : undefined;
      console.log(
        `${scenario.name.padEnd(24)} ${answer ? `${answer.key} (${answer.ruleKind}) raised ${fmt(answer.at - start)} after the fault, lead time ${fmt(lead!)} before the complaint` : 'NOT RAISED before the complaint'}` +
          `; other signals on the faulty devices: ${[...new Set(raised.filter((s) => touches(s) && s !== answer).map((s) => s.ruleId))].join(', ') || 'none'}`,
      );
      expect(falseAlarms).toEqual([]);
      expect(answer, `no ${EXPECTED[scenario.name]?.join('/') ?? 'signal'} about ${[...targets].slice(0, 3).join(', ')} before ${new Date(complaintAt).toISOString()}`).toBeDefined();
      expect(answer!.at).toBeGreaterThanOrEqual(start);
      expect(answer!.at).toBeLessThan(complaintAt);
    }, 600_000);
  }
});

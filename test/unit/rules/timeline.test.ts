import { describe, expect, it } from 'vitest';
import { DeviceTimelines } from '../../../src/rules/timeline.js';
import { H, MIN, T0 } from './helpers.js';

describe('device timelines', () => {
  it('tells new readings from QoS 1 repeats and from telemetry that arrives out of order', () => {
    const t = new DeviceTimelines();
    expect(t.observe('l1', 'telemetry', 1, T0, T0 + 1000)).toBe('new');
    expect(t.observe('l1', 'telemetry', 1, T0, T0 + 1500)).toBe('duplicate');
    expect(t.observe('l1', 'telemetry', 3, T0 + 2 * MIN, T0 + 2 * MIN)).toBe('new');
    expect(t.observe('l1', 'telemetry', 2, T0 + MIN, T0 + 2 * MIN + 10)).toBe('late');
    // Events are facts whenever they arrive; only exact repeats are dropped.
    expect(t.observe('l1', 'events', 4, T0 + 30_000, T0 + 2 * MIN + 20)).toBe('new');
    // seq restarting after a reboot is a new reading (another ts).
    expect(t.observe('l1', 'telemetry', 1, T0 + 3 * MIN, T0 + 3 * MIN)).toBe('new');
  });

  it("gives each device's own clock: precall's now less the lag of its newest reading", () => {
    const t = new DeviceTimelines();
    t.observe('slow', 'telemetry', 1, T0 - 10 * MIN, T0);
    t.observe('replay', 'telemetry', 1, T0 - 2 * H, T0);
    expect(t.deviceNow('slow', T0 + MIN)).toBe(T0 - 9 * MIN);
    expect(t.deviceNow('replay', T0 + MIN)).toBe(T0 - 2 * H + MIN);
    expect(t.deviceNow('unknown', T0)).toBe(T0);
    // An older reading arriving later does not move the clock back.
    t.observe('replay', 'telemetry', 2, T0 - 3 * H, T0 + 2 * MIN);
    expect(t.deviceNow('replay', T0 + 2 * MIN)).toBe(T0 - 2 * H + 2 * MIN);
  });
});

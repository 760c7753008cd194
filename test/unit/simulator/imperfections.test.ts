/**
 * Imperfections of healthy devices (simulator/imperfections.ts), measured on the messages of a
 * seeded run against the same run with clean data: each kind of imperfection shows at about the
 * rate docs/simulator.md gives, the physics underneath is unchanged, every payload stays valid,
 * and the run is reproducible.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_IMPERFECTIONS as R } from '../../../simulator/imperfections.js';
import { SimulationEngine, type OutMessage, type SimEvent } from '../../../simulator/engine.js';
import { syntheticFleet } from '../../../simulator/synthetic-fleet.js';
import { DAY, HOUR, schemaProblems, WINTER_START } from './helpers.js';

function simulate(imperfections: boolean, days = 2) {
  const { sim } = syntheticFleet({ chargers: 16, heatMeters: 36, elevators: 12, hash: false });
  const engine = new SimulationEngine({ devices: sim.devices, seed: 11, startMs: WINTER_START, imperfections });
  const messages: OutMessage[] = [];
  const events: SimEvent[] = [];
  for (let t = WINTER_START + HOUR; t <= WINTER_START + days * DAY; t += HOUR) {
    const out = engine.advanceTo(t);
    messages.push(...out.messages);
    events.push(...out.events);
  }
  return { engine, messages, events, devices: sim.devices };
}

const dirty = simulate(true);
const clean = simulate(false);

describe('imperfections of healthy devices', () => {
  it('keep every payload valid', { timeout: 30_000 }, () => {
    expect(schemaProblems(dirty.messages)).toEqual([]);
  });

  it('lose and double messages at about the documented rates, and replay out of order after reconnects', () => {
    let made = 0;
    let lost = 0;
    let doubled = 0;
    let backwards = 0;
    for (const d of dirty.devices) {
      const seqs = dirty.messages.filter((m) => m.deviceId === d.id).map((m) => m.payload.seq);
      const distinct = new Set(seqs);
      const top = Math.max(...seqs) + 1;
      made += top;
      lost += top - distinct.size;
      doubled += seqs.length - distinct.size;
      for (let i = 1; i < seqs.length; i++) if (seqs[i]! < seqs[i - 1]!) backwards++;
    }
    expect(lost / made).toBeGreaterThan(R.lostPerMessage / 2);
    expect(lost / made).toBeLessThan(R.lostPerMessage * 2);
    expect(doubled / made).toBeGreaterThan(R.duplicatePerMessage / 3);
    expect(doubled / made).toBeLessThan(R.duplicatePerMessage * 3);
    expect(backwards).toBeGreaterThan(0);
  });

  it('take whole buildings off the network for minutes: the broker sees the connections drop and come back', () => {
    const down = dirty.events.filter((e) => e.type === 'link-down');
    const up = dirty.events.filter((e) => e.type === 'link-up');
    expect(down.length).toBeGreaterThan(0);
    expect(up.length).toBe(down.length);
    // Devices of one building go down together.
    const byTime = new Map<number, Set<string>>();
    for (const e of down) byTime.set(Math.round(e.at / 60_000), (byTime.get(Math.round(e.at / 60_000)) ?? new Set()).add(e.deviceId));
    expect(Math.max(...[...byTime.values()].map((s) => s.size))).toBeGreaterThan(1);
    for (const e of down) {
      const back = up.find((u) => u.deviceId === e.deviceId && u.at > e.at)!;
      expect(back.at - e.at).toBeLessThan((R.outageMinutes[1] + 1) * 60_000);
    }
  });

  it('set some device clocks minutes off', () => {
    const offsets = dirty.devices.map((d) => Math.abs(dirty.engine.clockOffsetMs(d.id)));
    const minutesOff = offsets.filter((o) => o >= R.clockOffMinutes[0] * 60_000).length;
    expect(minutesOff).toBeGreaterThan(0);
    expect(minutesOff / offsets.length).toBeLessThan(R.clockOffShare * 3);
    // Telemetry sent live carries the device clock: ts − send time = the device's offset.
    const m = dirty.messages.find((x) => x.channel === 'telemetry' && Math.abs(dirty.engine.clockOffsetMs(x.deviceId)) >= 60_000)!;
    expect(Math.abs(m.payload.ts - m.at)).toBeGreaterThanOrEqual(60_000);
  });

  it('dip the mains at charging sheds: power-cut and power-restored seconds apart', () => {
    const pile = (m: OutMessage) => m.kind === 'ebike-charger' && m.channel === 'events';
    const cuts = dirty.messages.filter((m) => pile(m) && m.payload.code === 'power-cut');
    const restored = dirty.messages.filter((m) => pile(m) && m.payload.code === 'power-restored');
    expect(cuts.length).toBeGreaterThan(0);
    expect(Math.abs(cuts.length - restored.length)).toBeLessThanOrEqual(3);
    expect(clean.messages.filter((m) => pile(m) && m.payload.code === 'power-cut')).toEqual([]);
  });

  it('glitch sensor values (spikes, dropouts, stuck values) on a small share of samples; the physics underneath is the same', () => {
    const cleanAt = new Map(clean.messages.filter((m) => m.channel === 'telemetry' && m.kind === 'heat-meter').map((m) => [`${m.deviceId}@${m.payload.ts}`, m.payload]));
    let samples = 0;
    let glitched = 0;
    let sameCounters = 0;
    for (const m of dirty.messages) {
      if (m.channel !== 'telemetry' || m.kind !== 'heat-meter') continue;
      const c = cleanAt.get(`${m.deviceId}@${m.payload.ts - dirty.engine.clockOffsetMs(m.deviceId)}`);
      if (c === undefined) continue;
      for (const f of ['supplyTempC', 'returnTempC', 'flowM3h']) {
        samples++;
        if (m.payload[f] !== c[f]) glitched++;
      }
      if (m.payload.heatKwh === c.heatKwh && m.payload.volumeM3 === c.volumeM3) sameCounters++;
    }
    expect(samples).toBeGreaterThan(40_000);
    const rate = glitched / samples;
    expect(rate).toBeGreaterThan(R.spikePerSample + R.dropoutPerSample);
    expect(rate).toBeLessThan(10 * (R.spikePerSample + R.dropoutPerSample + R.stuckPerSample));
    expect(sameCounters).toBe(samples / 3);
  });

  it('are reproducible: the same seed gives the same messages', () => {
    const again = simulate(true, 1);
    // (a day: the first run's first day)
    const first = dirty.messages.filter((m) => m.at <= WINTER_START + DAY);
    expect(again.messages.filter((m) => m.at <= WINTER_START + DAY)).toEqual(first);
  });
});

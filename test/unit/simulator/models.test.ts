import { describe, expect, it } from 'vitest';
import { deviceKinds, type DeviceKind } from '../../../devices/index.js';
import { outdoorTempC, inHeatingSeason } from '../../../simulator/models/weather.js';
import { DAY, HOUR, run, schemaProblems, WINTER_START, type PortReading } from './helpers.js';

// A healthy fleet must give a rules engine nothing to raise: every reading well inside the
// normal ranges of shared/DOMAIN.md, counters rising, no faults, no gaps.
describe('healthy fleet over a winter week', { timeout: 60_000 }, () => {
  const week = run({ chargers: 4, heatMeters: 12, elevators: 3, durationMs: 7 * DAY, seed: 11 });
  const byDevice = new Map<string, typeof week.messages>();
  for (const m of week.messages) {
    const list = byDevice.get(m.deviceId) ?? [];
    list.push(m);
    byDevice.set(m.deviceId, list);
  }
  /** Readings breaking a condition, for one assertion per rule (thousands of expects are slow). */
  const violations = <T>(items: T[], ok: (x: T) => boolean) => items.filter((x) => !ok(x)).slice(0, 3);

  it('every reading passes its kind zod schema', () => {
    expect(week.messages.length).toBeGreaterThan(40_000);
    expect(schemaProblems(week.messages)).toEqual([]);
  });

  it('reports every heartbeat: telemetry period = the kind heartbeat, no silence', () => {
    for (const [id, msgs] of byDevice) {
      const tel = msgs.filter((m) => m.channel === 'telemetry');
      const kind = tel[0]?.kind as DeviceKind;
      const period = deviceKinds[kind].heartbeatSeconds * 1000;
      expect(tel.length, id).toBeGreaterThanOrEqual(Math.floor((7 * DAY) / period) - 1);
      const gaps = tel.slice(1).filter((m, i) => m.payload.ts - (tel[i]?.payload.ts ?? 0) !== period);
      expect(gaps, id).toEqual([]);
    }
  });

  it('seq increases by one per message of a device, ts never goes back for telemetry', () => {
    for (const [id, msgs] of byDevice) {
      expect(violations(msgs.map((m, i) => ({ id, i, seq: m.payload.seq })), (x) => x.seq === x.i)).toEqual([]);
    }
  });

  it('cumulative counters never fall', () => {
    const counters: Record<string, string[]> = { 'heat-meter': ['heatKwh', 'volumeM3'], elevator: ['tripCount', 'doorCycles', 'runningHours'], 'ebike-charger': [] };
    for (const [id, msgs] of byDevice) {
      const tel = msgs.filter((m) => m.channel === 'telemetry');
      for (const field of counters[tel[0]?.kind ?? ''] ?? []) {
        const falls = tel.slice(1).filter((m, i) => (m.payload[field] as number) < (tel[i]?.payload[field] as number));
        expect(falls, `${id}.${field}`).toEqual([]);
        expect(tel.at(-1)?.payload[field] as number, `${id}.${field} rises over a week`).toBeGreaterThan(tel[0]?.payload[field] as number);
      }
    }
  });

  it('heat meters stay in the normal range: ΔT well above 3 K, supply ≤ 85 °C, household flow and power', () => {
    const tel = week.messages.filter((m) => m.kind === 'heat-meter' && m.channel === 'telemetry').map((m) => m.payload);
    const healthy = JSON.stringify({ valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false });
    expect(tel.length).toBeGreaterThan(20_000);
    expect(violations(tel, (r) => (r.deltaTK as number) > 8)).toEqual([]);
    expect(violations(tel, (r) => (r.supplyTempC as number) <= 85 && (r.supplyTempC as number) > 40)).toEqual([]);
    expect(violations(tel, (r) => (r.flowM3h as number) > 0.01 && (r.flowM3h as number) < 0.4)).toEqual([]);
    expect(violations(tel, (r) => (r.powerKw as number) < 12 && (r.powerKw as number) > 0)).toEqual([]);
    expect(violations(tel, (r) => JSON.stringify(r.status) === healthy)).toEqual([]);
    expect(week.messages.filter((m) => m.kind === 'heat-meter' && m.channel === 'events')).toEqual([]);
  });

  it('charging piles: sessions happen, end within 8 h, float below 20 W, ports far below 60 °C', () => {
    const tel = week.messages.filter((m) => m.kind === 'ebike-charger' && m.channel === 'telemetry').map((m) => m.payload);
    const ports = tel.flatMap((r) => r.ports as PortReading[]);
    expect(ports.filter((p) => p.state === 'charging').length).toBeGreaterThan(100);
    expect(ports.filter((p) => p.state === 'float').length).toBeGreaterThan(10);
    expect(violations(ports, (p) => p.tempC < 45)).toEqual([]);
    expect(violations(ports, (p) => p.sessionMinutes < 8 * 60)).toEqual([]);
    expect(violations(ports, (p) => p.powerW <= 400 && p.fault === 'none')).toEqual([]);
    expect(violations(ports, (p) => p.state !== 'float' || p.powerW < 20)).toEqual([]);
    expect(violations(ports, (p) => p.state !== 'idle' || p.powerW === 0)).toEqual([]);
    expect(violations(tel, (r) => !r.smoke && !r.heatAlarm && !r.flooding && !r.powerCut)).toEqual([]);
    const codes = new Set(week.messages.filter((m) => m.kind === 'ebike-charger' && m.channel === 'events').map((m) => m.payload.code));
    expect([...codes].sort()).toEqual(['session-end', 'session-start']);
  });

  it('charging sessions cluster in the evening (arrival rates by hour)', () => {
    const starts = week.messages.filter((m) => m.channel === 'events' && m.payload.code === 'session-start').map((m) => new Date(m.payload.ts + 8 * HOUR).getUTCHours());
    const evening = starts.filter((h) => h >= 17 && h <= 23).length;
    const night = starts.filter((h) => h <= 5).length;
    expect(evening).toBeGreaterThan(3 * night);
  });

  it('elevators: traffic by hour, no faults, never the entrapment pattern, speed at most rated', () => {
    const tel = week.messages.filter((m) => m.kind === 'elevator' && m.channel === 'telemetry').map((m) => m.payload);
    // No faults, except the stop switch a technician opens during an inspection visit.
    expect(violations(tel, (r) => (r.serviceMode === 'normal' && (r.faults as string[]).length === 0) || (r.serviceMode === 'inspection' && (r.faults as string[]).every((f) => f === 'safety-circuit-open')))).toEqual([]);
    expect(violations(tel, (r) => (r.speedMs as number) <= (r.ratedSpeedMs as number))).toEqual([]);
    expect(violations(tel, (r) => !(!r.moving && r.doorsLocked && r.passenger))).toEqual([]);
    expect(tel.filter((r) => r.moving).length).toBeGreaterThan(100);
    expect(week.messages.filter((m) => m.kind === 'elevator' && m.channel === 'events' && m.payload.code !== 'service-completed')).toEqual([]);
    // Busier at 18:00 than at 03:00 (Beijing).
    const movingAt = (h: number) => tel.filter((r) => r.moving && new Date((r.ts as number) + 8 * HOUR).getUTCHours() === h).length;
    expect(movingAt(18)).toBeGreaterThan(movingAt(3));
  });

  it('has no scenario moments without scenarios', () => {
    expect(week.events).toEqual([]);
  });
});

describe('seasons', () => {
  it('heating season is 15 Nov – 15 Mar (Beijing time)', () => {
    expect(inHeatingSeason(Date.parse('2026-11-14T23:00:00+08:00'))).toBe(false);
    expect(inHeatingSeason(Date.parse('2026-11-15T00:30:00+08:00'))).toBe(true);
    expect(inHeatingSeason(Date.parse('2027-03-15T23:00:00+08:00'))).toBe(true);
    expect(inHeatingSeason(Date.parse('2027-03-16T00:30:00+08:00'))).toBe(false);
  });

  it('outdoor temperature: cold January nights, warm July afternoons, colder at 05:00 than at 14:00', () => {
    const jan5 = outdoorTempC(Date.parse('2027-01-20T05:00:00+08:00'), 1);
    const jan14 = outdoorTempC(Date.parse('2027-01-20T14:00:00+08:00'), 1);
    const jul14 = outdoorTempC(Date.parse('2026-07-20T14:00:00+08:00'), 1);
    expect(jan5).toBeLessThan(jan14);
    expect(jan5).toBeLessThan(0);
    expect(jul14).toBeGreaterThan(25);
  });

  it('in summer heat meters are idle (valve closed, no flow) and everything stays valid and in range', () => {
    const summer = run({ chargers: 2, heatMeters: 6, elevators: 2, durationMs: 2 * DAY, startMs: Date.parse('2026-07-15T00:00:00+08:00') });
    expect(schemaProblems(summer.messages)).toEqual([]);
    const meters = summer.messages.filter((m) => m.kind === 'heat-meter' && m.channel === 'telemetry').map((m) => m.payload);
    expect(meters.length).toBeGreaterThan(1000);
    expect(meters.filter((r) => r.flowM3h !== 0 || r.powerKw !== 0 || (r.status as { valve: string }).valve !== 'closed')).toEqual([]);
    const ports = summer.messages.filter((m) => m.kind === 'ebike-charger' && m.channel === 'telemetry').flatMap((m) => m.payload.ports as PortReading[]);
    expect(ports.filter((p) => p.tempC >= 55)).toEqual([]);
  });

  it('in a January cold snap heat meters stay in range (supply ≤ 85 °C, power ≤ 12 kW)', () => {
    const jan = run({ chargers: 1, heatMeters: 12, elevators: 1, durationMs: 3 * DAY, startMs: Date.parse('2027-01-18T00:00:00+08:00') });
    expect(schemaProblems(jan.messages)).toEqual([]);
    const meters = jan.messages.filter((m) => m.kind === 'heat-meter' && m.channel === 'telemetry').map((m) => m.payload);
    expect(meters.length).toBeGreaterThan(1000);
    expect(meters.filter((r) => (r.supplyTempC as number) > 85 || (r.powerKw as number) >= 12 || (r.deltaTK as number) <= 8)).toEqual([]);
  });
});

describe('reproducibility', () => {
  it('the same seed gives identical readings, whatever the step size', () => {
    const a = run({ chargers: 3, heatMeters: 5, elevators: 2, durationMs: DAY, seed: 42, stepMs: HOUR });
    const b = run({ chargers: 3, heatMeters: 5, elevators: 2, durationMs: DAY, seed: 42, stepMs: 7 * 60_000 });
    const key = (m: (typeof a.messages)[number]) => `${m.deviceId}/${m.payload.seq}`;
    const sort = (ms: typeof a.messages) => [...ms].sort((x, y) => key(x).localeCompare(key(y)));
    expect(a.messages.length).toBeGreaterThan(1000);
    expect(sort(b.messages)).toEqual(sort(a.messages));
  });

  it('another seed gives other readings', () => {
    const a = run({ chargers: 2, heatMeters: 3, elevators: 2, durationMs: 6 * HOUR, seed: 1 });
    const b = run({ chargers: 2, heatMeters: 3, elevators: 2, durationMs: 6 * HOUR, seed: 2 });
    expect(JSON.stringify(b.messages)).not.toEqual(JSON.stringify(a.messages));
  });

  it('a device reads the same whether or not other devices are simulated', () => {
    const small = run({ chargers: 1, heatMeters: 2, elevators: 1, durationMs: 6 * HOUR, seed: 5 });
    const big = run({ chargers: 6, heatMeters: 30, elevators: 4, durationMs: 6 * HOUR, seed: 5 });
    const id = small.messages.find((m) => m.kind === 'heat-meter')?.deviceId ?? '';
    expect(big.telemetry(id)).toEqual(small.telemetry(id));
  });
});

it('every start date of a year stays valid (spot checks around the season edges)', () => {
  for (const start of ['2026-11-14T20:00:00+08:00', '2027-03-15T20:00:00+08:00', '2026-04-01T00:00:00+08:00']) {
    const r = run({ chargers: 1, heatMeters: 3, elevators: 1, durationMs: DAY, startMs: Date.parse(start) });
    expect(schemaProblems(r.messages), start).toEqual([]);
  }
  expect(WINTER_START).toBeGreaterThan(0);
});

it('lifts are maintained about every 12 days (inside the 15-day rule): 30–90 min of inspection, then service-completed', { timeout: 60_000 }, () => {
  const month = run({ chargers: 1, heatMeters: 1, elevators: 4, durationMs: 30 * DAY, seed: 2 });
  const lifts = [...new Set(month.messages.filter((m) => m.kind === 'elevator').map((m) => m.deviceId))];
  expect(lifts).toHaveLength(4);
  for (const id of lifts) {
    const visits = month.deviceEvents(id).filter((e) => e.code === 'service-completed').map((e) => e.ts as number);
    expect(visits.length, id).toBeGreaterThanOrEqual(2);
    // First visit within 12 days of the start, then never more than 13 days apart.
    expect((visits[0] as number) - WINTER_START).toBeLessThan(12 * DAY);
    for (let i = 1; i < visits.length; i++) expect((visits[i] as number) - (visits[i - 1] as number)).toBeLessThan(13 * DAY);
    const inspection = month.telemetry(id).filter((r) => r.serviceMode === 'inspection');
    expect(inspection.length).toBeGreaterThanOrEqual(visits.length * 29);
    // (a visit may still be under way when the month ends)
    expect(inspection.length).toBeLessThanOrEqual((visits.length + 1) * 91);
    // The technician drives the car at inspection speed (≤ 0.63 m/s), nobody rides in it.
    expect(inspection.some((r) => r.moving)).toBe(true);
    expect(inspection.every((r) => !r.passenger && (r.speedMs as number) <= 0.63)).toBe(true);
  }
});

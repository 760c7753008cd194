import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseScenario, ScenarioFileError } from '../../../simulator/scenario.js';
import { resolveScenario, ScenarioTargetError } from '../../../simulator/targets.js';
import { syntheticFleet } from '../../../simulator/synthetic-fleet.js';
import { DAY, HOUR, port, run, SCENARIO_DIR, scenario, schemaProblems, WINTER_START } from './helpers.js';

const MIN = 60_000;
const SHIPPED = readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.replace(/\.yaml$/, '')).sort();

/** Run one shipped scenario and return the run plus its first target device and fault start. */
function runScenario(name: string, durationMs: number) {
  const s = scenario(name);
  const r = run({ durationMs, scenarios: [s] });
  const fault = r.resolved[0]?.faults[0];
  if (!fault) throw new Error('no fault');
  return { r, s, fault, id: fault.deviceIds[0] as string, complaintMs: r.resolved[0]?.complaint.atMs as number };
}

describe('shipped scenario files', () => {
  it('ships the scenarios the issue asks for', () => {
    expect(SHIPPED).toEqual([
      'device-silent',
      'heat-flow-blockage',
      'heat-low-delta-t',
      'heat-sensor-short',
      'lift-door-faults',
      'lift-entrapment',
      'lift-out-of-service',
      'overcharge',
      'port-overheat',
      'relay-welded',
      'shed-power-loss',
      'substation-supply-drop',
    ]);
  });

  it.each(SHIPPED)('%s parses, names itself after its file, resolves against a generated fleet, and the complaint comes after the fault', (name) => {
    const s = scenario(name);
    expect(s.name).toBe(name);
    const { sim } = syntheticFleet({ chargers: 8, heatMeters: 40, elevators: 6, hash: false });
    const resolved = resolveScenario(s, sim.devices, WINTER_START);
    expect(resolved.faults[0]?.deviceIds.length).toBeGreaterThan(0);
    expect(resolved.complaint.atMs).toBeGreaterThan(resolved.faults[0]?.startMs as number);
  });

  it.each(SHIPPED)('%s: every reading under the fault still passes the kind schemas', (name) => {
    const { r } = runScenario(name, 12 * HOUR);
    expect(schemaProblems(r.messages)).toEqual([]);
  });
});

describe('scenario signatures, checked on the readings', () => {
  it('port-overheat: port 3 climbs 0.5 °C/min while charging until the pile cuts it off at its 80 °C limit: heat alarm, no power, session over', () => {
    const { r, fault, id, complaintMs } = runScenario('port-overheat', 5 * HOUR);
    const tel = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs);
    const temps = tel.map((x) => ({ ts: x.ts as number, t: port(x, 3).tempC, p: port(x, 3) }));
    const cut = temps.findIndex((x) => x.t >= 80);
    expect(cut).toBeGreaterThan(20);
    // After the first minutes (while the socket's own warming from the load still leads).
    const climbing = temps.slice(5, cut);
    for (let i = 1; i < climbing.length; i++) {
      const rate = ((climbing[i]?.t as number) - (climbing[i - 1]?.t as number)) / (((climbing[i]?.ts as number) - (climbing[i - 1]?.ts as number)) / MIN);
      expect(rate).toBeCloseTo(0.5, 1);
    }
    expect(Math.max(...temps.map((x) => x.t))).toBe(80);
    // The pile's own protection: the port is cut off (state fault, 0 W) and the heat alarm is on
    // while it is still hot; the temperature then falls.
    const after = tel.slice(cut);
    expect(after.every((x) => port(x, 3).powerW === 0 && port(x, 3).sessionMinutes === 0)).toBe(true);
    expect(port(after[0] as Record<string, unknown>, 3).state).toBe('fault');
    expect(after[0]?.heatAlarm).toBe(true);
    expect(port(after.at(-1) as Record<string, unknown>, 3).tempC).toBeLessThan(60);
    expect(after.at(-1)?.heatAlarm).toBe(false);
    expect(tel.slice(0, cut).every((x) => x.heatAlarm === false)).toBe(true);
    const ev = r.deviceEvents(id);
    expect(ev.filter((e) => e.code === 'heat-alarm' && e.port === 3)).toHaveLength(1);
    expect(ev.some((e) => e.code === 'session-end' && e.port === 3 && String(e.detail).includes('over-temperature'))).toBe(true);
    const past60 = temps.find((x) => x.t > 60)?.ts as number;
    expect(past60).toBeLessThan(complaintMs - HOUR);
    // A normal e-bike session: never the energy of an overcharge.
    expect(Math.max(...temps.map((x) => x.p.sessionEnergyKwh))).toBeLessThan(1.3);
  });

  it('port-overheat: bikes plugged into the port after its cut-off end their sessions like anywhere else (none looks like a session over 8 h)', () => {
    // Found by the demo on 2026-12-02: a bike plugged in after the cut-off floated for 10 h and
    // raised a second, wrong order ("charging time too long") on the overheating port.
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = run({ durationMs: 3 * DAY, seed, scenarios: [scenario('port-overheat')] });
      const id = r.resolved[0]!.faults[0]!.deviceIds[0]!;
      const p3 = r.telemetry(id).map((x) => port(x, 3));
      const sessions = r.deviceEvents(id).filter((e) => e.code === 'session-start' && e.port === 3);
      expect(sessions.length, `seed ${seed}: port 3 is used again after the cut-off`).toBeGreaterThan(1);
      expect(Math.max(...p3.map((x) => x.sessionMinutes)), `seed ${seed}`).toBeLessThanOrEqual(7 * 60 + 3);
    }
  });

  it('port-overheat held below the pile limit (48 °C): no heat alarm, the port keeps charging', () => {
    const s = scenario('port-overheat');
    const low = { ...s, faults: [{ ...s.faults[0]!, maxC: 48 } as (typeof s.faults)[number]] };
    const r = run({ durationMs: 4 * HOUR, scenarios: [low] });
    const id = r.resolved[0]!.faults[0]!.deviceIds[0]!;
    const tel = r.telemetry(id);
    expect(Math.max(...tel.map((x) => port(x, 3).tempC))).toBe(48);
    expect(tel.every((x) => x.heatAlarm === false)).toBe(true);
    expect(r.deviceEvents(id).some((e) => e.code === 'heat-alarm')).toBe(false);
  });

  it('relay-welded: at full the pile ends the session but current keeps flowing through the idle port; its self-check flags the relay', () => {
    const { r, fault, id } = runScenario('relay-welded', 15 * HOUR);
    const tel = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs);
    const endedAt = tel.findIndex((x, i) => i > 0 && port(x, 2).sessionMinutes === 0);
    expect(endedAt).toBeGreaterThan(0);
    const after = tel.slice(endedAt).map((x) => port(x, 2));
    expect(after.length).toBeGreaterThan(100);
    // No session any more (no "full", no growing session): an idle port with ~45 W through it.
    expect(after.filter((p) => !['idle', 'fault'].includes(p.state) || p.powerW < 40 || p.sessionMinutes !== 0)).toEqual([]);
    expect(after.at(-1)?.fault).toBe('relay-welded');
    expect(after.at(-1)?.state).toBe('fault');
    expect(r.deviceEvents(id).filter((e) => e.code === 'relay-welded')).toHaveLength(1);
    expect(tel.some((x) => port(x, 2).state === 'full' || port(x, 2).sessionEnergyKwh > 1.5)).toBe(false);
  });

  it('overcharge: port 5 keeps charging at ~120 W after the taper, past 8 h, warming towards 52 °C, until the firmware limit of 10 h', () => {
    const { r, fault, id, complaintMs } = runScenario('overcharge', 13 * HOUR);
    const all = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs).map((x) => port(x, 5));
    const limit = all.findIndex((p) => p.state === 'idle');
    expect(all[limit - 1]?.sessionMinutes).toBeGreaterThanOrEqual(9 * 60 + 55);
    expect(all.slice(limit).every((p) => p.state === 'idle' || p.state === 'charging')).toBe(true);
    expect(r.deviceEvents(id).some((e) => e.code === 'session-end' && e.port === 5)).toBe(true);
    const ports = all.slice(0, limit);
    expect(ports.every((p) => p.state === 'charging')).toBe(true);
    // The battery never reaches the float level: power stays above 20 W through the taper and
    // then holds at ~120 W for the rest of the run (more than 4 h of readings).
    expect(ports.filter((p) => p.powerW < 20).map((p) => JSON.stringify(p))).toEqual([]);
    let tail = 0;
    while (tail < ports.length && Math.abs((ports[ports.length - 1 - tail]?.powerW as number) - 120) < 10) tail++;
    expect(tail * 3).toBeGreaterThan(4 * 60);
    const held = ports.slice(ports.length - tail);
    const last = ports.at(-1) as (typeof ports)[number];
    expect(last.sessionMinutes).toBeGreaterThan(8 * 60);
    expect(last.tempC).toBeGreaterThan(held[0]?.tempC as number);
    expect(Math.max(...ports.map((p) => p.tempC))).toBeLessThanOrEqual(52);
    // The 8-hour mark comes before the neighbour's call.
    const eightHours = r.telemetry(id).find((x) => port(x, 5).sessionMinutes > 8 * 60)?.ts as number;
    expect(eightHours).toBeLessThan(complaintMs);
  });

  it('shed-power-loss: every pile of the building reports powerCut once, then nothing', () => {
    const { r, fault } = runScenario('shed-power-loss', 4 * HOUR);
    expect(fault.deviceIds.length).toBeGreaterThanOrEqual(2);
    for (const id of fault.deviceIds) {
      const after = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs);
      expect(after).toHaveLength(1);
      expect(after[0]?.powerCut).toBe(true);
      expect(after[0]?.totalPowerW).toBe(0);
      expect(r.deviceEvents(id).some((e) => e.code === 'power-cut')).toBe(true);
      expect(r.events.some((e) => e.type === 'device-silent' && e.deviceId === id)).toBe(true);
    }
  });

  it('shed-power-loss: power comes back after 3 h; the piles report again and say power-restored', () => {
    const { r, fault } = runScenario('shed-power-loss', 8 * HOUR);
    for (const id of fault.deviceIds) {
      const tel = r.telemetry(id);
      const gap = tel.filter((x) => (x.ts as number) > fault.startMs + 3 * 60_000 && (x.ts as number) < fault.endMs);
      expect(gap).toEqual([]);
      const back = tel.filter((x) => (x.ts as number) >= fault.endMs);
      expect(back.length).toBeGreaterThan(50);
      expect(back.every((x) => x.powerCut === false)).toBe(true);
      const restored = r.deviceEvents(id).filter((e) => e.code === 'power-restored');
      expect(restored).toHaveLength(1);
      expect(restored[0]?.ts as number).toBeLessThan(fault.endMs + 3 * 60_000 + 1);
      expect(r.events.filter((e) => e.type === 'device-back' && e.deviceId === id)).toHaveLength(1);
      // seq goes on where it stopped.
      const seqs = r.messages.filter((m) => m.deviceId === id).map((m) => m.payload.seq);
      expect(seqs).toEqual(seqs.map((_, i) => i));
    }
  });

  it('device-silent: the pile sends nothing after the start', () => {
    const { r, fault, id } = runScenario('device-silent', 4 * HOUR);
    expect(r.telemetry(id).filter((x) => (x.ts as number) < fault.startMs).length).toBeGreaterThan(10);
    expect(r.messages.filter((m) => m.deviceId === id && m.payload.ts >= fault.startMs)).toEqual([]);
  });

  it('heat-flow-blockage: flow chokes below 0.01 m³/h with a hot supply; the own valve of the meter stays open and it says nothing', () => {
    const { r, fault, id } = runScenario('heat-flow-blockage', 8 * HOUR);
    const tel = r.telemetry(id);
    const before = tel.filter((x) => (x.ts as number) < fault.startMs);
    expect(before.every((x) => (x.flowM3h as number) > 0.02)).toBe(true);
    const developed = tel.filter((x) => (x.ts as number) >= fault.startMs + 2 * HOUR);
    expect(developed.length).toBeGreaterThan(20);
    for (const x of developed) {
      expect(x.flowM3h as number).toBeLessThan(0.01);
      expect(x.supplyTempC as number).toBeGreaterThan(45);
      expect((x.status as { valve: string }).valve).toBe('open');
      expect(x.powerKw as number).toBeLessThan(0.2);
    }
    expect(r.deviceEvents(id)).toEqual([]);
  });

  it('heat-low-delta-t: ΔT sinks below 3 K while flow rises above the household range', () => {
    const { r, fault, id } = runScenario('heat-low-delta-t', 10 * HOUR);
    const tel = r.telemetry(id);
    expect(tel.filter((x) => (x.ts as number) < fault.startMs).every((x) => (x.deltaTK as number) > 8)).toBe(true);
    const ramped = tel.filter((x) => (x.ts as number) >= fault.startMs + 6 * HOUR);
    expect(ramped.length).toBeGreaterThan(20);
    for (const x of ramped) {
      expect(x.deltaTK as number).toBeLessThan(3);
      expect(x.flowM3h as number).toBeGreaterThan(0.4);
    }
  });

  it('heat-sensor-short: supply reads 185 °C, fault bit set, heat stops counting while volume goes on', () => {
    const { r, fault, id } = runScenario('heat-sensor-short', 8 * HOUR);
    const after = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs);
    expect(after.length).toBeGreaterThan(50);
    for (const x of after) {
      expect(x.supplyTempC).toBe(185);
      expect((x.status as { tempSensorFault: boolean }).tempSensorFault).toBe(true);
    }
    expect(after.at(-1)?.heatKwh).toBe(after[0]?.heatKwh);
    expect(after.at(-1)?.volumeM3 as number).toBeGreaterThan(after[0]?.volumeM3 as number);
    expect(r.deviceEvents(id).filter((e) => e.code === 'temp-sensor-fault')).toHaveLength(1);
  });

  it('substation-supply-drop: every meter on the substation loses 2 K/h of supply against the healthy run, down to 35 °C', () => {
    const s = scenario('substation-supply-drop');
    const faulty = run({ durationMs: 24 * HOUR, scenarios: [s] });
    const healthy = run({ durationMs: 24 * HOUR });
    const fault = faulty.resolved[0]?.faults[0];
    if (!fault) throw new Error('no fault');
    expect(fault.deviceIds.length).toBeGreaterThan(10);
    for (const id of fault.deviceIds) {
      const f = faulty.telemetry(id);
      const h = healthy.telemetry(id);
      expect(f.length).toBe(h.length);
      f.forEach((x, i) => {
        const base = h[i]?.supplyTempC as number;
        const elapsedH = Math.max(0, ((x.ts as number) - fault.startMs) / HOUR);
        const expected = Math.max(35, base - 2 * elapsedH);
        expect(Math.abs((x.supplyTempC as number) - expected)).toBeLessThan(0.2);
      });
      expect(Math.min(...f.map((x) => x.supplyTempC as number))).toBeLessThan(35.3);
    }
    // Meters elsewhere are untouched.
    const other = faulty.messages.find((m) => m.kind === 'heat-meter' && !fault.deviceIds.includes(m.deviceId))?.deviceId as string;
    expect(faulty.telemetry(other)).toEqual(healthy.telemetry(other));
  });

  it('lift-door-faults: door-close faults grow day over day', () => {
    const { r, fault, id } = runScenario('lift-door-faults', 4 * DAY);
    const faults = r.deviceEvents(id).filter((e) => e.code === 'door-close-fault');
    const perDay = [0, 1, 2, 3].map((d) => faults.filter((e) => Math.floor(((e.ts as number) - fault.startMs) / DAY) === d).length);
    expect(perDay[3]).toBeGreaterThan(perDay[0] as number);
    expect((perDay[2] as number) + (perDay[3] as number)).toBeGreaterThan(2 * ((perDay[0] as number) + (perDay[1] as number)));
    expect(r.deviceEvents(id).filter((e) => e.code === 'fault-cleared')).toHaveLength(faults.length);
    expect(r.telemetry(id).filter((x) => (x.faults as string[]).includes('door-close-fault')).length).toBeGreaterThan(10);
  });

  it('lift-entrapment: stopped between floors, doors locked, passenger inside, entrapment flagged; released after 40 min', () => {
    const { r, fault, id, complaintMs } = runScenario('lift-entrapment', 5 * HOUR);
    const during = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs + 30_000 && (x.ts as number) < fault.startMs + 40 * MIN);
    expect(during.length).toBeGreaterThan(30);
    for (const x of during) {
      expect([x.moving, x.doorsLocked, x.passenger, x.doorZone]).toEqual([false, true, true, false]);
      expect(x.faults).toContain('entrapment');
    }
    const ev = r.deviceEvents(id);
    const entrapped = ev.find((e) => e.code === 'entrapment');
    expect(entrapped?.ts).toBe(fault.startMs + 30_000);
    expect(ev.some((e) => e.code === 'alarm-button')).toBe(true);
    expect(complaintMs - (entrapped?.ts as number)).toBeLessThan(10 * MIN);
    const afterwards = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs + 41 * MIN);
    expect(afterwards.every((x) => !(x.faults as string[]).includes('entrapment'))).toBe(true);
  });

  it('lift-out-of-service: out-of-service mode and no trips from the start on', () => {
    const { r, fault, id } = runScenario('lift-out-of-service', 8 * HOUR);
    const after = r.telemetry(id).filter((x) => (x.ts as number) >= fault.startMs);
    expect(after.length).toBeGreaterThan(100);
    expect(after.every((x) => x.serviceMode === 'out-of-service' && (x.faults as string[]).includes('safety-circuit-open'))).toBe(true);
    expect(after.at(-1)?.tripCount).toBe(after[0]?.tripCount);
    expect(r.deviceEvents(id).some((e) => e.code === 'safety-circuit-open')).toBe(true);
  });
});

describe('invalid scenario files are refused with the path of the offending field', () => {
  const base = `name: x\ndescription: d\nexpect: { family: comms-loss, asset: device }\ncomplaintAfter: 1h\ncomplaint: { category: heating, text: cold }\n`;
  const refuse = (text: string) => {
    try {
      parseScenario(text, 'bad.yaml');
    } catch (err) {
      expect(err).toBeInstanceOf(ScenarioFileError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('a target with no selector names faults[0].target.device', () => {
    expect(refuse(`${base}faults:\n  - { type: port-overheat, target: {} }\n`)).toMatch(/^bad\.yaml: faults\[0\]\.target\.device: Required/);
  });
  it('an index without a kind names target.kind', () => {
    expect(refuse(`${base}faults:\n  - { type: port-overheat, target: { index: 0 } }\n`)).toMatch(/^bad\.yaml: faults\[0\]\.target\.kind: Required/);
  });
  it('an unknown fault type names faults[0].type', () => {
    expect(refuse(`${base}faults:\n  - { type: meltdown, target: { device: a } }\n`)).toMatch(/^bad\.yaml: faults\[0\]\.type: /);
  });
  it('a bad duration names the field and says what a duration looks like', () => {
    expect(refuse(`${base}faults:\n  - { type: silent, target: { device: a }, startAfter: two hours }\n`)).toMatch(/^bad\.yaml: faults\[0\]\.startAfter: "two hours" is not a duration/);
  });
  it('a negative rate names faults[0].rateCPerMin', () => {
    expect(refuse(`${base}faults:\n  - { type: port-overheat, target: { device: a }, rateCPerMin: -1 }\n`)).toMatch(/^bad\.yaml: faults\[0\]\.rateCPerMin: /);
  });
  it('a misspelt key is refused', () => {
    expect(refuse(`${base}faults:\n  - { type: port-overheat, target: { device: a }, rate: 1 }\n`)).toMatch(/faults\[0\].*rate/);
  });
  it('no complaint time names complaintAfter', () => {
    expect(refuse(`name: x\ndescription: d\nexpect: { family: comms-loss, asset: device }\ncomplaint: { category: heating, text: t }\nfaults:\n  - { type: silent, target: { device: a } }\n`)).toMatch(/^bad\.yaml: complaintAfter: Required/);
  });
  it('an unknown complaint category names complaint.category', () => {
    expect(refuse(`name: x\ndescription: d\nexpect: { family: comms-loss, asset: device }\ncomplaintAfter: 1h\ncomplaint: { category: noise, text: t }\nfaults:\n  - { type: silent, target: { device: a } }\n`)).toMatch(/^bad\.yaml: complaint\.category: /);
  });
  it('a scenario states its truth: no expect, an unknown family or asset type are refused with the path', () => {
    const rest = `complaintAfter: 1h\ncomplaint: { category: heating, text: t }\nfaults:\n  - { type: silent, target: { device: a } }\n`;
    expect(refuse(`name: x\ndescription: d\n${rest}`)).toMatch(/^bad\.yaml: expect: /);
    expect(refuse(`name: x\ndescription: d\nexpect: { family: socket-overheating, asset: port }\n${rest}`)).toMatch(/expect\.family: "socket-overheating" is not a problem family of the shipped rules \(.*socket-overheat/);
    expect(refuse(`name: x\ndescription: d\nexpect: { family: socket-overheat, asset: shed }\n${rest}`)).toMatch(/expect\.asset: /);
  });
  it('broken YAML says so', () => {
    expect(refuse('name: [unclosed')).toMatch(/^bad\.yaml: not valid YAML/);
  });
  it('an absolute complaintAt is accepted and resolved as given', () => {
    const s = parseScenario(`name: x\ndescription: d\nexpect: { family: comms-loss, asset: device }\ncomplaintAt: 2026-12-01T12:00:00+08:00\ncomplaint: { category: heating, text: t }\nfaults:\n  - { type: silent, target: { kind: heat-meter, index: -1 }, startAfter: 1h30m }\n`);
    const { sim } = syntheticFleet({ heatMeters: 3, hash: false });
    const r = resolveScenario(s, sim.devices, WINTER_START);
    expect(r.complaint.atMs).toBe(Date.parse('2026-12-01T12:00:00+08:00'));
    expect(r.faults[0]?.startMs).toBe(WINTER_START + 90 * MIN);
    expect(r.faults[0]?.deviceIds).toEqual([sim.devices.filter((d) => d.kind === 'heat-meter').at(-1)?.id]);
  });
  it('a target the fleet lacks, or of the wrong kind, is refused at resolution with the fault path', () => {
    const { sim } = syntheticFleet({ chargers: 1, heatMeters: 1, elevators: 1, hash: false });
    expect(() => resolveScenario(scenario('lift-out-of-service'), sim.devices, WINTER_START)).toThrow(/faults\[0\]\.target: the fleet has no elevator number 2/);
    const wrong = parseScenario(`${base}faults:\n  - { type: entrapment, target: { device: ${sim.devices.find((d) => d.kind === 'heat-meter')?.id} } }\n`);
    expect(() => resolveScenario(wrong, sim.devices, WINTER_START)).toThrow(ScenarioTargetError);
  });
});

describe('shipped scenarios against fleets written by `precall fleet`', () => {
  it.each([30, 61, 300])('all resolve against a generated fleet of %d devices, with distinct targets', async (n) => {
    const { generateFleet } = await import('../../../src/registry/generate-fleet.js');
    const { Registry } = await import('../../../src/registry/registry.js');
    const { fleet } = generateFleet({ devices: n, seed: 3 });
    const devices = [...new Registry(fleet).devices.values()];
    const targets = new Map<string, string>();
    for (const name of SHIPPED) {
      const resolved = resolveScenario(scenario(name), devices, WINTER_START);
      for (const id of resolved.faults.flatMap((f) => f.deviceIds)) {
        // The substation fault spans meters of several buildings; the others hit one device each.
        if (name !== 'substation-supply-drop') {
          expect(targets.get(id), `${name} and ${targets.get(id)} both hit ${id}`).toBeUndefined();
          targets.set(id, name);
        }
      }
    }
    expect(targets.size).toBeGreaterThanOrEqual(11);
  });
});

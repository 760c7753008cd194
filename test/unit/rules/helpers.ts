/** Shared fixtures for rule tests: a small fleet, reading builders, a fake clock. */
import type { DeviceKind } from '../../../devices/index.js';
import type { Reading } from '../../../src/ingest/reading.js';
import { FleetFile } from '../../../src/registry/fleet-schema.js';
import { Registry } from '../../../src/registry/registry.js';
import type { KindContext } from '../../../src/rules/kinds/types.js';

const HASH = 'scrypt$1024$8$1$AAAA$AAAA';

/** A device entry of the test fleets (every secret the same dummy hash). */
export const testDevice = (id: string, kind: DeviceKind, extra: object = {}) => ({ id, kind, secretHash: HASH, ...extra });

/** One street (星城街道) with one community (燕和园) holding these buildings. */
export function oneCommunityRegistry(buildings: { id: string; name: string; substation?: string; devices: object[] }[]): Registry {
  return new Registry(FleetFile.parse({ version: 1, streets: [{ id: 's1', name: '星城街道', communities: [{ id: 'c1', name: '燕和园', buildings }] }] }));
}

/** Two buildings on one substation: b1 has 4 meters, 2 piles, 1 lift; b2 has 4 meters. */
export function testRegistry(): Registry {
  const dev = testDevice;
  return oneCommunityRegistry([
    { id: 'b1', name: '1号楼', substation: 'ss1', devices: [dev('m1', 'heat-meter'), dev('m2', 'heat-meter'), dev('m3', 'heat-meter'), dev('m4', 'heat-meter'), dev('p1', 'ebike-charger', { ports: 2 }), dev('p2', 'ebike-charger', { ports: 2 }), dev('l1', 'elevator')] },
    { id: 'b2', name: '2号楼', substation: 'ss1', devices: [dev('m5', 'heat-meter'), dev('m6', 'heat-meter'), dev('m7', 'heat-meter'), dev('m8', 'heat-meter')] },
  ]);
}

export function tagsOf(registry: Registry, id: string) {
  const d = registry.device(id)!;
  return { device: d.id, kind: d.kind, street: d.street, community: d.community, building: d.building, ...(d.substation ? { substation: d.substation } : {}) };
}

export function reading(registry: Registry, id: string, time: number, payload: Record<string, unknown>, channel: 'telemetry' | 'events' = 'telemetry'): Reading {
  const tags = tagsOf(registry, id);
  return { deviceId: id, kind: tags.kind, tags, time, receivedAt: time, clockCorrected: false, channel, payload: { ts: time, seq: 0, ...payload } } as unknown as Reading;
}

export function port(n: number, p: Partial<{ state: string; fault: string; powerW: number; tempC: number; sessionMinutes: number; sessionEnergyKwh: number }> = {}) {
  return { port: n, state: 'charging', fault: 'none', powerW: 250, voltageV: 221, currentA: 1.1, sessionEnergyKwh: 0.2, sessionMinutes: 30, tempC: 20, ...p };
}

export function charger(ports: ReturnType<typeof port>[], extra: Record<string, unknown> = {}) {
  return { inputVoltageV: 222, ambientTempC: 10, totalPowerW: 500, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports, ...extra };
}

export function heat(extra: Record<string, unknown> = {}) {
  const { status, ...rest } = extra as { status?: object };
  return {
    heatKwh: 1000,
    volumeM3: 100,
    powerKw: 2,
    flowM3h: 0.1,
    supplyTempC: 60,
    returnTempC: 44,
    deltaTK: 16,
    status: { valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false, ...status },
    ...rest,
  };
}

export function lift(extra: Record<string, unknown> = {}) {
  return { serviceMode: 'normal', moving: false, direction: 'none', doorZone: true, doorsLocked: true, passenger: false, floor: 1, power: 'normal', speedMs: 0, ratedSpeedMs: 1, runningHours: 10, tripCount: 100, doorCycles: 200, faults: [], ...extra };
}

export const ctx = (heartbeatSeconds = 180): KindContext => ({ heartbeatSeconds, unitOf: () => undefined });

export const T0 = Date.parse('2026-12-01T00:00:00Z');
export const S = 1000;
export const MIN = 60_000;
export const H = 3_600_000;

/** A small fleet and valid payloads of every kind and channel, for ingest and API tests. */
import { FleetFile } from '../../../src/registry/fleet-schema.js';
import { Registry } from '../../../src/registry/registry.js';

/** A well-formed hash; unit tests never verify secrets with it. */
const FAKE_HASH = 'scrypt$1024$8$1$c2FsdA==$aGFzaA==';

export const NOW = Date.UTC(2026, 10, 26, 8, 0, 0);

export function testFleet(): FleetFile {
  return FleetFile.parse({
    version: 1,
    streets: [
      {
        id: 'yingfeng',
        name: '迎风街道',
        communities: [
          {
            id: 'yingfeng-1',
            name: '迎风一里社区',
            buildings: [
              {
                id: 'yf1-b3',
                name: '3号楼',
                substation: 'sub-2',
                devices: [
                  { id: 'ec-1', kind: 'ebike-charger', secretHash: FAKE_HASH, ports: 2 },
                  { id: 'hm-1', kind: 'heat-meter', secretHash: FAKE_HASH },
                  { id: 'el-1', kind: 'elevator', secretHash: FAKE_HASH, floors: 6 },
                ],
              },
            ],
          },
        ],
      },
      {
        id: 'xingcheng',
        name: '星城街道',
        communities: [
          {
            id: 'yanheyuan',
            name: '燕和园社区',
            buildings: [{ id: 'yhy-b1', name: '1号楼', devices: [{ id: 'Dev_2.a-b', kind: 'heat-meter', secretHash: FAKE_HASH }] }],
          },
        ],
      },
    ],
  });
}

export function testRegistry(): Registry {
  return new Registry(testFleet());
}

export function chargerTelemetry(ts = NOW, seq = 1) {
  return {
    ts,
    seq,
    inputVoltageV: 221.5,
    ambientTempC: 18,
    totalPowerW: 350,
    smoke: false,
    heatAlarm: false,
    flooding: false,
    powerCut: false,
    ports: [
      { port: 1, state: 'charging', powerW: 350, voltageV: 48, currentA: 7.3, sessionEnergyKwh: 0.4, sessionMinutes: 35, tempC: 31 },
      { port: 2, state: 'idle', fault: 'none', powerW: 0, voltageV: 0, currentA: 0, sessionEnergyKwh: 0, sessionMinutes: 0, tempC: 20 },
    ],
  };
}

export function heatTelemetry(ts = NOW, seq = 1) {
  return {
    ts,
    seq,
    heatKwh: 1234.5,
    volumeM3: 56.25,
    powerKw: 2,
    flowM3h: 0.1,
    supplyTempC: 70,
    returnTempC: 48,
    deltaTK: 22,
    status: { valve: 'open', lowBattery: false, tempSensorFault: false, flowSensorFault: false, negativeDeltaT: false, leak: false },
  };
}

export function elevatorTelemetry(ts = NOW, seq = 1) {
  return {
    ts,
    seq,
    serviceMode: 'normal',
    moving: false,
    direction: 'none',
    doorZone: true,
    doorsLocked: true,
    passenger: false,
    floor: 3,
    power: 'normal',
    speedMs: 0,
    ratedSpeedMs: 1,
    runningHours: 1200,
    tripCount: 45000,
    doorCycles: 90000,
    faults: [],
  };
}

export function elevatorEvent(ts = NOW, seq = 2) {
  return { ts, seq, code: 'entrapment', floor: 4, detail: 'alarm "pressed", twice' };
}

/** A small fleet and valid payloads of every kind and channel, for ingest and API tests. */
import { FleetFile } from '../../../src/registry/fleet-schema.js';
import { Registry } from '../../../src/registry/registry.js';

/** A well-formed hash; unit tests never verify secrets with it. */
const FAKE_HASH = 'scrypt$1024$8$1$c2FsdA==$aGFzaA==';

import { NOW } from '../../support/payloads.js';

export { NOW };

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

export { elevatorEvent, elevatorTelemetry, heatTelemetry } from '../../support/payloads.js';

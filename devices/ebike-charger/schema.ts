/**
 * E-bike charging pile (multi-port, 10/12/16 ports). Fields and limits follow the AP3000
 * protocol v8.6 as summarised in shared/DOMAIN.md: ≤ 2000 W per port, over/under-voltage
 * 270/100 V, over-temperature 80 °C, "full" below 20 W, heartbeat every 3 minutes.
 */
import { z } from 'zod';
import { counter, envelope, flag, measure } from '../common.js';

export const PortState = z
  .enum(['idle', 'charging', 'plugged', 'full', 'float', 'fault'])
  .meta({ description: 'Port state: idle, charging, plugged but not started, full, float charge, or fault.' });

export const PortFault = z
  .enum(['none', 'socket-stuck', 'fuse-blown', 'relay-welded', 'load-short'])
  .meta({ description: 'Fault reported by the port; none when healthy.' });

export const Port = z
  .object({
    port: z.number().int().min(1).max(16).meta({ description: 'Port number on the pile, from 1.' }),
    state: PortState,
    fault: PortFault.default('none'),
    powerW: measure({ unit: 'W', grafanaUnit: 'watt', description: 'Charging power at the port.' }, 0, 5000),
    voltageV: measure({ unit: 'V', grafanaUnit: 'volt', description: 'Port output voltage.' }, 0, 400),
    currentA: measure({ unit: 'A', grafanaUnit: 'amp', description: 'Port output current.' }, 0, 25),
    sessionEnergyKwh: counter({ unit: 'kWh', grafanaUnit: 'kwatth', description: 'Energy delivered in the current session.' }, 100),
    sessionMinutes: measure({ unit: 'min', grafanaUnit: 'm', description: 'Minutes since the current session started; 0 when idle.' }, 0, 7 * 24 * 60),
    tempC: measure({ unit: '°C', grafanaUnit: 'celsius', description: 'Port (socket) temperature.' }, -40, 200),
  })
  .strict();
export type Port = z.infer<typeof Port>;

export const ChargerTelemetry = z
  .object({
    ...envelope,
    inputVoltageV: measure({ unit: 'V', grafanaUnit: 'volt', description: 'Mains voltage at the pile.' }, 0, 400),
    ambientTempC: measure({ unit: '°C', grafanaUnit: 'celsius', description: 'Temperature inside the pile enclosure or shed.' }, -40, 120),
    totalPowerW: measure({ unit: 'W', grafanaUnit: 'watt', description: 'Sum of port power.' }, 0, 40000),
    smoke: flag('Smoke alarm active.'),
    heatAlarm: flag('Heat alarm active.'),
    flooding: flag('Flooding alarm active.'),
    powerCut: flag('Mains power lost (pile on backup for this report).'),
    ports: z.array(Port).min(1).max(16).meta({ description: 'One entry per port.' }),
  })
  .strict();
export type ChargerTelemetry = z.infer<typeof ChargerTelemetry>;

export const ChargerEventCode = z
  .enum([
    'smoke',
    'heat-alarm',
    'flooding',
    'power-cut',
    'power-restored',
    'socket-stuck',
    'fuse-blown',
    'relay-welded',
    'load-short',
    'session-start',
    'session-end',
  ])
  .meta({ description: 'What happened.' });

export const ChargerEvent = z
  .object({
    ...envelope,
    code: ChargerEventCode,
    port: z.number().int().min(1).max(16).optional().meta({ description: 'Port concerned, when the event is about one port.' }),
    detail: z.string().max(500).optional().meta({ description: 'Free text from the firmware.' }),
  })
  .strict();
export type ChargerEvent = z.infer<typeof ChargerEvent>;

/**
 * Secondary water supply pump station (二次供水泵房): a break tank fed from the mains and a
 * variable-speed booster set holding a constant outlet pressure for the upper floors of old
 * buildings (mains pressure reaches only 5–6 floors; shared/DOMAIN.md, xjj555.com news 530).
 * Fields and ranges follow the data points in shared/DOMAIN.md: inlet and outlet pressure and
 * setpoint (MPa), tank level, per pump state / frequency / current / run hours / starts, room
 * flooding, mains power, residual free chlorine and turbidity.
 */
import { z } from 'zod';
import { counter, envelope, flag, measure } from '../common.js';

export const PumpState = z.enum(['off', 'running', 'standby', 'fault']).meta({ description: 'Pump state: off (asleep or stopped), running, standby (ready to take over), or fault.' });

export const Pump = z
  .object({
    pump: z.number().int().min(1).max(6).meta({ description: 'Pump number in the booster set, from 1.' }),
    state: PumpState,
    frequencyHz: measure({ unit: 'Hz', grafanaUnit: 'hertz', description: 'Drive output frequency (0 when stopped; ≤ 50 Hz in normal duty).' }, 0, 60),
    currentA: measure({ unit: 'A', grafanaUnit: 'amp', description: 'Motor current.' }, 0, 200),
    runHours: counter({ unit: 'h', grafanaUnit: 'h', description: 'Total running hours of the pump.' }, 1e6),
    starts: counter({ description: 'Total number of starts of the pump.' }, 1e9),
  })
  .strict();
export type Pump = z.infer<typeof Pump>;

export const PumpStationTelemetry = z
  .object({
    ...envelope,
    tankLevelPct: measure({ unit: '%', grafanaUnit: 'percent', description: 'Break tank level, percent of its height; the low-level cut-off stops the pumps before they run dry.' }, 0, 100),
    inletPressureMPa: measure({ unit: 'MPa', grafanaUnit: 'suffix: MPa', description: 'Mains pressure at the tank inlet.' }, 0, 1.6),
    outletPressureMPa: measure({ unit: 'MPa', grafanaUnit: 'suffix: MPa', description: 'Pressure after the booster set, as its sensor reads it.' }, 0, 1.6),
    setpointMPa: measure({ unit: 'MPa', grafanaUnit: 'suffix: MPa', description: 'Outlet pressure the drive holds.' }, 0, 1.6),
    powerKw: measure({ unit: 'kW', grafanaUnit: 'kwatt', description: 'Electrical power drawn by the booster set.' }, 0, 200),
    chlorineMgL: measure({ unit: 'mg/L', grafanaUnit: 'suffix: mg/L', description: 'Residual free chlorine of the water leaving the station (GB 5749-2022: at least 0.05 mg/L at the tap).' }, 0, 5),
    turbidityNtu: measure({ unit: 'NTU', grafanaUnit: 'suffix: NTU', description: 'Turbidity of the water leaving the station (GB 5749-2022: at most 1 NTU).' }, 0, 100),
    flooding: flag('Water on the pump room floor.'),
    mainsLost: flag('Mains power lost (the controller reports on its backup supply).'),
    pumps: z.array(Pump).min(1).max(6).meta({ description: 'One entry per pump of the booster set.' }),
  })
  .strict();
export type PumpStationTelemetry = z.infer<typeof PumpStationTelemetry>;

export const PumpStationEventCode = z
  .enum(['pump-start', 'pump-stop', 'pump-fault', 'dry-run-trip', 'flooding', 'mains-lost', 'mains-restored', 'door-open'])
  .meta({ description: 'What happened.' });

export const PumpStationEvent = z
  .object({
    ...envelope,
    code: PumpStationEventCode,
    pump: z.number().int().min(1).max(6).optional().meta({ description: 'Pump concerned, when the event is about one pump.' }),
    detail: z.string().max(500).optional().meta({ description: 'Free text from the controller.' }),
  })
  .strict();
export type PumpStationEvent = z.infer<typeof PumpStationEvent>;

/**
 * Household heat meter (district heating). Record per CJ/T 188 and Beijing DB11/T 1389-2017 as
 * summarised in shared/DOMAIN.md. A shorted or open temperature sensor reads 0.00 or 185.00 °C,
 * so the temperature range admits both: they are faults for the rules, not invalid payloads.
 */
import { z } from 'zod';
import { counter, envelope, flag, measure } from '../common.js';

export const ValveState = z.enum(['open', 'closed', 'abnormal']).meta({ description: 'Valve position reported by the meter.' });

export const HeatMeterStatus = z
  .object({
    valve: ValveState,
    lowBattery: flag('Battery low.'),
    tempSensorFault: flag('Temperature sensor fault bit.'),
    flowSensorFault: flag('Flow sensor fault bit.'),
    negativeDeltaT: flag('Return warmer than supply (sensors swapped or reversed flow).'),
    leak: flag('Leak detected.'),
  })
  .strict();
export type HeatMeterStatus = z.infer<typeof HeatMeterStatus>;

export const HeatMeterTelemetry = z
  .object({
    ...envelope,
    heatKwh: counter({ unit: 'kWh', grafanaUnit: 'kwatth', description: 'Cumulative heat delivered.' }),
    volumeM3: counter({ unit: 'm³', grafanaUnit: 'm3', description: 'Cumulative volume of water through the meter.' }),
    powerKw: measure({ unit: 'kW', grafanaUnit: 'kwatt', description: 'Heat power now (household about 2 kW, at most about 12 kW).' }, 0, 100),
    flowM3h: measure({ unit: 'm³/h', grafanaUnit: 'flowcms', description: 'Flow now (household 0.02–0.4 m³/h).' }, 0, 10),
    supplyTempC: measure({ unit: '°C', grafanaUnit: 'celsius', description: 'Supply (flow) water temperature; design 75 °C, at most 85 °C.' }, -20, 200),
    returnTempC: measure({ unit: '°C', grafanaUnit: 'celsius', description: 'Return water temperature; design 50 °C.' }, -20, 200),
    deltaTK: measure({ unit: 'K', grafanaUnit: 'kelvin', description: 'Supply minus return temperature; meters need at least 3 K.' }, -220, 220),
    status: HeatMeterStatus,
  })
  .strict();
export type HeatMeterTelemetry = z.infer<typeof HeatMeterTelemetry>;

export const HeatMeterEventCode = z
  .enum(['leak', 'burst', 'valve-abnormal', 'low-battery', 'temp-sensor-fault', 'flow-sensor-fault', 'tamper'])
  .meta({ description: 'What happened.' });

export const HeatMeterEvent = z
  .object({
    ...envelope,
    code: HeatMeterEventCode,
    detail: z.string().max(500).optional().meta({ description: 'Free text from the firmware.' }),
  })
  .strict();
export type HeatMeterEvent = z.infer<typeof HeatMeterEvent>;

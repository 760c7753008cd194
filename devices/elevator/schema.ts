/**
 * Elevator controller (retrofitted residential lift). Data items follow the GB/T 24476 IoT scheme
 * as summarised in shared/DOMAIN.md.
 */
import { z } from 'zod';
import { counter, envelope, flag, measure } from '../common.js';

export const ServiceMode = z
  .enum(['out-of-service', 'normal', 'inspection', 'fire-return', 'firefighter', 'emergency-power', 'earthquake'])
  .meta({ description: 'Service mode of the lift.' });

export const ElevatorFaultCode = z
  .enum([
    'safety-circuit-open',
    'door-close-fault',
    'door-open-fault',
    'stopped-outside-unlocking-zone',
    'unintended-car-movement',
    'motor-runtime-limiter',
    'floor-position-lost',
    'overtravel-top',
    'overtravel-bottom',
    'entrapment',
    'alarm-button',
    'main-power-off',
    'overspeed',
    'door-open-while-running',
    'ebike-in-car',
  ])
  .meta({ description: 'Fault code (GB/T 24476 fault items).' });
export type ElevatorFaultCode = z.infer<typeof ElevatorFaultCode>;

export const ElevatorTelemetry = z
  .object({
    ...envelope,
    serviceMode: ServiceMode,
    moving: flag('Car is moving.'),
    direction: z.enum(['none', 'up', 'down']).meta({ description: 'Direction of travel.' }),
    doorZone: flag('Car is within a door (levelling) zone.'),
    doorsLocked: flag('Doors closed and locked.'),
    passenger: flag('A person is detected in the car.'),
    floor: z.number().int().min(-5).max(99).meta({ description: 'Current floor.' }),
    power: z.enum(['normal', 'outage']).meta({ description: 'Mains power state.' }),
    speedMs: measure({ unit: 'm/s', grafanaUnit: 'velocityms', description: 'Car speed (retrofitted lifts are rated about 1.0 m/s).' }, 0, 10),
    ratedSpeedMs: measure({ unit: 'm/s', grafanaUnit: 'velocityms', description: 'Rated speed of this lift.' }, 0.1, 10),
    runningHours: counter({ unit: 'h', grafanaUnit: 'h', description: 'Cumulative running hours.' }),
    tripCount: counter({ description: 'Cumulative trips.' }),
    doorCycles: counter({ description: 'Cumulative door open/close cycles.' }),
    faults: z.array(ElevatorFaultCode).max(15).meta({ description: 'Faults active at the time of the reading.' }),
  })
  .strict();
export type ElevatorTelemetry = z.infer<typeof ElevatorTelemetry>;

export const ElevatorEvent = z
  .object({
    ...envelope,
    code: z.union([ElevatorFaultCode, z.enum(['fault-cleared', 'service-completed'])]).meta({ description: 'Fault raised, fault cleared, or maintenance completed.' }),
    fault: ElevatorFaultCode.optional().meta({ description: 'For fault-cleared: which fault cleared.' }),
    floor: z.number().int().min(-5).max(99).optional().meta({ description: 'Floor at the time of the event.' }),
    detail: z.string().max(500).optional().meta({ description: 'Free text from the controller.' }),
  })
  .strict();
export type ElevatorEvent = z.infer<typeof ElevatorEvent>;

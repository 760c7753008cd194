/**
 * Signals: what rules emit and work orders consume. A signal is raised once when a condition
 * starts (or is predicted) and cleared once when it ends; `key` identifies the condition so that
 * repeats fold into one work order.
 */
import type { DeviceKind } from '../../devices/index.js';

export type Severity = 'critical' | 'major' | 'minor' | 'info';

/** What kind of case this is, for SLA deadlines (shared/DOMAIN.md deadline table). */
export type CaseClass = 'entrapment' | 'life-safety' | 'utility-outage' | 'general' | 'complex' | 'preventive';

export interface Evidence {
  /** Reading time, epoch ms. */
  time: number;
  field: string;
  value: number | string | boolean;
  unit?: string;
}

export interface Signal {
  /**
   * Stable key: `${ruleId}:${scope}` where scope is the device id, or `building:${id}` /
   * `substation:${id}` for a group signal (rules with `building.by: substation`). A pile's ports
   * share their pile's key (the signal is raised by the first port and cleared by the last).
   */
  key: string;
  state: 'raised' | 'cleared';
  ruleId: string;
  /** The rule kind that produced it (threshold, trend, ...). */
  ruleKind: string;
  /** Device the signal is about; absent for building-level signals. */
  deviceId?: string;
  kind: DeviceKind;
  /** The device's building; for a substation group signal, the building of the device that completed the group. */
  building: string;
  community: string;
  street: string;
  /** Substation, for heat meters and building-level heating signals. */
  substation?: string;
  /** Charging-pile port, when the signal is about one port. */
  port?: number;
  severity: Severity;
  caseClass: CaseClass;
  /** Signal time (the reading time that decided it), epoch ms. */
  at: number;
  /** For predictions: when the field is expected to cross the limit, epoch ms. */
  eta?: number;
  /** Message catalogue key and its parameters, rendered in the configured language downstream. */
  message: { id: string; params: Record<string, string | number> };
  evidence: Evidence[];
  /** For building-level signals: the devices that raised it. */
  devices?: string[];
}

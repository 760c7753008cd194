/**
 * Signals: what rules emit and work orders consume. A signal is raised once when a condition
 * starts (or is predicted) and cleared once when it ends. `key` identifies the rule's condition on
 * its asset; `incident` identifies the problem (family on asset) that every rule seeing it shares,
 * so that all of them fold into one work order.
 */
import type { DeviceKind } from '../../devices/index.js';
import type { Asset, AssetType } from './schema.js';

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

/** An `explainedBy` entry of the rule: an open order of `family` at `scope` explains the signal. */
export interface Explanation {
  family: string;
  scope: AssetType;
}

/** A rule that declares `explainedBy: [<this family>@scope]`: signals of `family` from `kind` devices. */
export interface Consequence {
  family: string;
  scope: AssetType;
  kind: DeviceKind;
}

/** The incident key of a problem: `${family}@${asset.type}:${asset.id}` (the work order's open key). */
export function incidentKey(family: string, asset: Asset): string {
  return `${family}@${asset.type}:${asset.id}`;
}

/** Asset id of one charging port: `${deviceId}/p${port}`. */
export function portAssetId(deviceId: string, port: number | string): string {
  return `${deviceId}/p${port}`;
}

export interface Signal {
  /**
   * Stable key of the rule's condition: `${ruleId}:${scope}` where scope is the device id, the
   * port (`${deviceId}/p${port}`, rules about ports: one signal per port), or `building:${id}` /
   * `substation:${id}` for a group signal (rules with `building:` grouping).
   */
  key: string;
  /** The problem family the rule diagnoses (rules.yaml `family`). */
  family: string;
  /** What the problem is about; a group signal is about its building or substation. */
  asset: Asset;
  /** `${family}@${asset.type}:${asset.id}`: signals with the same incident fold into one order. */
  incident: string;
  /** Open orders that explain this signal (rules.yaml `explainedBy`); absent when none is declared. */
  explainedBy?: Explanation[];
  /** The reverse: problems this signal's family explains (rules whose `explainedBy` names it). */
  explains?: Consequence[];
  /** The rule marks a fire precursor (rules.yaml `fireRisk`): priority adds the fire-risk points. */
  fireRisk?: true;
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

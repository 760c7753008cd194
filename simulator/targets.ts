/**
 * Resolve scenario targets against a fleet and times against the run start: which devices a
 * fault hits, when it starts and ends, and when (and about what) a resident calls.
 */
import type { DeviceRecord } from '../src/registry/registry.js';
import { FAULT_KINDS, type Expectation, type Fault, type Scenario } from './scenario.js';

export interface ResolvedFault {
  scenario: string;
  /** Index in the scenario's `faults`. */
  index: number;
  spec: Fault;
  deviceIds: string[];
  /** Simulated epoch ms. */
  startMs: number;
  /** Simulated epoch ms; Infinity when the fault lasts to the end of the run. */
  endMs: number;
}

export interface ResolvedComplaint {
  scenario: string;
  /** Simulated epoch ms when the resident calls. */
  atMs: number;
  deviceId: string;
  street: string;
  community: string;
  communityName: string;
  building: string;
  buildingName: string;
  category: Scenario['complaint']['category'];
  text: string;
  urgent: boolean;
  unit?: string;
}

export interface ResolvedScenario {
  name: string;
  /** The family and asset type a right diagnosis names. */
  expect: Expectation;
  faults: ResolvedFault[];
  complaint: ResolvedComplaint;
}

export class ScenarioTargetError extends Error {
  override name = 'ScenarioTargetError';
}

function targetDevices(fault: Fault, fleet: readonly DeviceRecord[], where: string): DeviceRecord[] {
  const t = fault.target;
  const kinds = FAULT_KINDS[fault.type];
  const fits = (d: DeviceRecord) => kinds.includes(d.kind) && (t.kind === undefined || d.kind === t.kind);
  let found: DeviceRecord[];
  let what: string;
  if (t.device !== undefined) {
    found = fleet.filter((d) => d.id === t.device);
    what = `device "${t.device}"`;
  } else if (t.building !== undefined) {
    found = fleet.filter((d) => d.building === t.building && fits(d));
    what = `building "${t.building}"`;
  } else if (t.index !== undefined) {
    const d = fleet.filter((x) => x.kind === t.kind).at(t.index);
    found = d ? [d] : [];
    what = `${t.kind} number ${t.index}`;
  } else {
    const buildings = [...new Set(fleet.filter((d) => d.kind === t.kind).map((d) => d.building))];
    const b = buildings.at(t.buildingIndex ?? 0);
    found = b === undefined ? [] : fleet.filter((d) => d.building === b && d.kind === t.kind);
    what = `building number ${t.buildingIndex} with ${t.kind} devices`;
  }
  if (found.length === 0) throw new ScenarioTargetError(`${where}.target: the fleet has no ${what}`);
  const wrong = found.filter((d) => !kinds.includes(d.kind));
  if (wrong.length === found.length) {
    throw new ScenarioTargetError(`${where}.target: ${fault.type} applies to ${kinds.join('/')} devices, ${what} is ${wrong[0]?.kind}`);
  }
  found = found.filter((d) => kinds.includes(d.kind));
  if ('port' in fault) {
    const short = found.find((d) => fault.port > (d.entry.ports ?? 10));
    if (short) throw new ScenarioTargetError(`${where}.port: ${short.id} has ${short.entry.ports ?? 10} ports, no port ${fault.port}`);
  }
  // A substation fault shows on every meter the substation feeds, across buildings.
  if (fault.type === 'supply-temp-drop') {
    const stations = new Set(found.map((d) => d.substation).filter((s) => s !== undefined));
    const extra = fleet.filter((d) => d.kind === 'heat-meter' && d.substation !== undefined && stations.has(d.substation));
    found = [...new Map([...found, ...extra].map((d) => [d.id, d])).values()];
  }
  return found;
}

export function resolveScenario(scenario: Scenario, fleet: readonly DeviceRecord[], runStartMs: number): ResolvedScenario {
  const faults = scenario.faults.map((spec, index): ResolvedFault => {
    const where = `scenario ${scenario.name}: faults[${index}]`;
    const startMs = spec.startAt !== undefined ? Date.parse(spec.startAt) : runStartMs + (spec.startAfter ?? 0);
    const deviceIds = targetDevices(spec, fleet, where).map((d) => d.id);
    return { scenario: scenario.name, index, spec, deviceIds, startMs, endMs: spec.duration !== undefined ? startMs + spec.duration : Infinity };
  });
  const first = fleet.find((d) => d.id === faults[0]?.deviceIds[0]);
  if (first === undefined) throw new ScenarioTargetError(`scenario ${scenario.name}: no device to complain about`);
  const atMs = scenario.complaintAt !== undefined ? Date.parse(scenario.complaintAt) : runStartMs + (scenario.complaintAfter ?? 0);
  return {
    name: scenario.name,
    expect: scenario.expect,
    faults,
    complaint: {
      scenario: scenario.name,
      atMs,
      deviceId: first.id,
      street: first.street,
      community: first.community,
      communityName: first.communityName,
      building: first.building,
      buildingName: first.buildingName,
      category: scenario.complaint.category,
      text: scenario.complaint.text,
      urgent: scenario.complaint.urgent,
      ...(scenario.complaint.unit !== undefined ? { unit: scenario.complaint.unit } : {}),
    },
  };
}

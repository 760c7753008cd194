/**
 * Fault scenario files (`simulator/scenarios/*.yaml`): which device or building, when the fault
 * starts, how it develops, and when a resident would call 12345 about it. One zod schema; the
 * types below are inferred from it. Errors name the file and the path of the offending field.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ElevatorFaultCode } from '../devices/elevator/schema.js';
import { DEVICE_KINDS } from '../devices/index.js';
import { ComplaintCategory } from '../src/complaints/schema.js';
import { familyMap, loadDefaultRules } from '../src/rules/load.js';
import { AssetType, Family } from '../src/rules/schema.js';
import { formatIssues } from '../src/zod-issues.js';
import { Duration } from './duration.js';
import { faultBase, IsoTime } from './fault-base.js';
import { kindSimulators } from './kinds.js';
import { readTextFile } from '../src/files/read-file.js';

export { Target } from './fault-base.js';

const Port = z.number().int().min(1).max(16);

const BUILT_IN_FAULTS = [
  // E-bike charging piles
  z.object({ type: z.literal('port-overheat'), ...faultBase, port: Port.default(1), rateCPerMin: z.number().positive().max(20).default(0.5), maxC: z.number().min(30).max(150).default(80) }).strict(),
  z.object({ type: z.literal('relay-welded'), ...faultBase, port: Port.default(1), holdW: z.number().min(20).max(2000).default(45), detectAfter: Duration.optional() }).strict(),
  z.object({ type: z.literal('overcharge'), ...faultBase, port: Port.default(1), holdW: z.number().min(20).max(2000).default(120), tempRiseCPerHour: z.number().min(0).max(60).default(4), maxTempC: z.number().min(20).max(150).default(52) }).strict(),
  z.object({ type: z.literal('shed-power-loss'), ...faultBase }).strict(),
  // Heat meters
  z.object({ type: z.literal('flow-blockage'), ...faultBase, develop: Duration.default(2 * 3_600_000), residualFlowM3h: z.number().min(0).max(0.05).default(0.004) }).strict(),
  z.object({ type: z.literal('low-delta-t'), ...faultBase, targetK: z.number().min(0).max(10).default(1.8), ramp: Duration.default(6 * 3_600_000) }).strict(),
  z.object({ type: z.literal('temp-sensor-short'), ...faultBase, sensor: z.enum(['supply', 'return']).default('supply'), readingC: z.number().default(185) }).strict(),
  z.object({ type: z.literal('supply-temp-drop'), ...faultBase, rateKPerHour: z.number().positive().max(50).default(2), floorC: z.number().min(0).max(80).default(35) }).strict(),
  // Elevators
  z.object({ type: z.literal('door-faults-growing'), ...faultBase, code: z.enum(['door-close-fault', 'door-open-fault']).default('door-close-fault'), perDayStart: z.number().positive().max(500).default(2), growthPerDay: z.number().min(1).max(10).default(2), maxPerDay: z.number().positive().max(2000).default(200) }).strict(),
  z.object({ type: z.literal('entrapment'), ...faultBase, where: z.enum(['door-zone', 'between-floors']).default('between-floors'), detectAfter: Duration.default(30_000) }).strict(),
  z.object({ type: z.literal('out-of-service'), ...faultBase, cause: ElevatorFaultCode.default('safety-circuit-open') }).strict(),
  // Any kind
  z.object({ type: z.literal('silent'), ...faultBase }).strict(),
] as const;

type Registered = (typeof kindSimulators)[keyof typeof kindSimulators];
/** A fault of any type: the built-in ones above and those each kind's simulator declares (simulator/kinds.ts). */
export type Fault = z.infer<(typeof BUILT_IN_FAULTS)[number]> | z.infer<Registered['faults'][number]>;
export type FaultType = Fault['type'];
const KIND_FAULTS = Object.values(kindSimulators).flatMap((s): readonly z.ZodObject[] => s.faults);
export const Fault = z.discriminatedUnion('type', [...BUILT_IN_FAULTS, ...KIND_FAULTS] as unknown as typeof BUILT_IN_FAULTS) as unknown as z.ZodType<Fault>;

/** The type literal of a fault schema. */
const faultType = (f: z.ZodObject) => (f.shape['type'] as z.ZodLiteral<string>).value;

/** Device kinds each fault type applies to (checked when targets are resolved). */
const KIND_FAULT_KINDS: Record<string, readonly string[]> = Object.fromEntries(Object.entries(kindSimulators).flatMap(([kind, sim]) => sim.faults.map((f) => [faultType(f), [kind]])));
export const FAULT_KINDS = {
  ...KIND_FAULT_KINDS,
  'port-overheat': ['ebike-charger'],
  'relay-welded': ['ebike-charger'],
  overcharge: ['ebike-charger'],
  'shed-power-loss': ['ebike-charger'],
  'flow-blockage': ['heat-meter'],
  'low-delta-t': ['heat-meter'],
  'temp-sensor-short': ['heat-meter'],
  'supply-temp-drop': ['heat-meter'],
  'door-faults-growing': ['elevator'],
  entrapment: ['elevator'],
  'out-of-service': ['elevator'],
  silent: DEVICE_KINDS,
} as Record<string, readonly string[]> as Record<FaultType, readonly string[]>;

export const Complaint = z
  .object({
    /** Complaint category as the 12345 intake records it (src/complaints/schema.ts). */
    category: ComplaintCategory,
    /** What the resident says. */
    text: z.string().min(1).max(1000),
    /** Risk to life or property (someone trapped, smoke): the 2-hour class. Default false. */
    urgent: z.boolean().default(false),
    /** Unit / flat of the caller, e.g. "2单元 601". */
    unit: z.string().max(64).optional(),
  })
  .strict();

let families: string[] | undefined;
/** The problem families the shipped rules diagnose (an override file cannot add any). */
function knownFamilies(): string[] {
  families ??= [...familyMap([...loadDefaultRules().values()].flat()).keys()].sort();
  return families;
}

/**
 * The truth of a scenario: the problem family a crew should be sent for and the asset it is
 * about (the port for a port fault, the device, its building, its substation). The demo credits
 * the fault only with an order of that family on that asset (docs/simulator.md, README).
 */
export const Expectation = z
  .object({
    family: Family.refine((f) => knownFamilies().includes(f), { error: (i) => `"${String(i.input)}" is not a problem family of the shipped rules (${knownFamilies().join(', ')})` }),
    asset: AssetType,
  }, { error: (i) => (i.input === undefined ? 'Required: say what a right diagnosis is, e.g. expect: { family: socket-overheat, asset: port }' : undefined) })
  .strict();
export type Expectation = z.infer<typeof Expectation>;

export const Scenario = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    description: z.string().min(1),
    /** What a right diagnosis is: `{ family: socket-overheat, asset: port }`. */
    expect: Expectation,
    faults: z.array(Fault).min(1),
    /** When a resident would call 12345, relative to the run start. */
    complaintAfter: Duration.optional(),
    /** When a resident would call, as an absolute time (ISO 8601 with offset). */
    complaintAt: IsoTime.optional(),
    /** What the resident says; the complaint is about the first fault's first device. */
    complaint: Complaint,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.complaintAfter === undefined && s.complaintAt === undefined) {
      ctx.addIssue({ code: 'custom', path: ['complaintAfter'], message: 'Required: give complaintAfter (relative to the run start) or complaintAt (ISO time)' });
    }
  });
export type Scenario = z.infer<typeof Scenario>;

export class ScenarioFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(problems.map((p) => `${file}: ${p}`).join('\n'));
    this.name = 'ScenarioFileError';
  }
}

/** Parse scenario YAML; throws ScenarioFileError naming the file and each field path. */
export function parseScenario(text: string, file = '<scenario>'): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ScenarioFileError(file, [`not valid YAML: ${(err as Error).message}`]);
  }
  const parsed = Scenario.safeParse(raw);
  if (!parsed.success) throw new ScenarioFileError(file, formatIssues(parsed.error));
  return parsed.data;
}

export function loadScenarioFile(path: string): Scenario {
  const file = basename(path);
  return parseScenario(readTextFile(path, ScenarioFileError, file), file);
}

/**
 * The scenario folders shipped with precall: simulator/scenarios (faults of the first kinds and
 * of any kind) and each kind's own, devices/<kind>/scenarios.
 */
export const SHIPPED_SCENARIOS: readonly string[] = [
  join(import.meta.dirname, 'scenarios'),
  ...DEVICE_KINDS.map((k) => join(import.meta.dirname, '../devices', k, 'scenarios')).filter((dir) => existsSync(dir)),
];

/** Every shipped scenario file, in file-name order across the folders. */
export function shippedScenarioFiles(): string[] {
  return SHIPPED_SCENARIOS.flatMap(scenarioFiles).sort((a, b) => basename(a).localeCompare(basename(b)));
}

/** A `--scenario` argument: a folder means every *.yaml / *.yml in it, in name order. */
export function scenarioFiles(path: string): string[] {
  try {
    if (statSync(path).isDirectory()) {
      return readdirSync(path)
        .filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'))
        .sort()
        .map((f) => join(path, f));
    }
  } catch {
    // fall through: loadScenarioFile reports the unreadable path
  }
  return [path];
}

/**
 * Reading → InfluxDB points, per the mapping in docs/ARCHITECTURE.md:
 * - telemetry → measurement of the kind; tags device, kind, street, community, building
 *   (+ substation); every field but `ts`, nested objects flattened with `_`;
 * - sub-units (charging-pile ports) → their own measurement with the key (`port`) as a tag;
 * - events → `<measurement>_event` with a `code` tag;
 * - arrays of enums (elevator `faults`) → a comma-joined string field plus `<singular>Count`;
 * - readings whose clock was corrected get the tag `clock=receive`.
 * Field types come from the kind's zod schema, read once per kind (through its JSON Schema, the
 * stable public view of a zod schema): `integer` → intField, `number` → floatField, so a field
 * never flips between int and float across messages (InfluxDB would refuse the second type).
 * Lines are built with the client's `Point`, which does the line-protocol escaping.
 */
import { escape, Point, type PointSettings } from '@influxdata/influxdb-client';
import { z } from 'zod';
import { deviceKinds, type DeviceKind, type DeviceKindDefinition } from '../../devices/index.js';
import type { Reading } from '../ingest/reading.js';

type FieldType = 'int' | 'float' | 'bool' | 'string';

/** How one payload key becomes fields. */
type FieldPlan =
  | { kind: 'scalar'; key: string; field: string; type: FieldType }
  | { kind: 'object'; key: string; fields: FieldPlan[] }
  | { kind: 'list'; key: string; field: string; countField: string };

interface ObjectPlan {
  measurement: string;
  fields: FieldPlan[];
}

export interface KindPlan {
  telemetry: ObjectPlan;
  /** Set for kinds with sub-units (ports): where they are and which key becomes the tag. */
  subUnits?: { key: string; tag: string; plan: ObjectPlan };
  event: ObjectPlan;
  /**
   * For kinds with sub-units whose events may name one (a pile's `port`): that key is the event's
   * tag, not a field, so that two ports' events at the same millisecond are two points (InfluxDB
   * keeps one point per series and time).
   */
  eventUnitTag?: string;
}

interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
}

function scalarType(s: JsonSchema): FieldType | undefined {
  const alts = s.anyOf ?? s.oneOf;
  if (alts !== undefined) {
    const types = new Set(alts.map(scalarType));
    // A union of ints and floats is stored as float; anything mixed with strings as string.
    if (types.has('string')) return 'string';
    if (types.has('float')) return 'float';
    return types.size === 1 ? [...types][0] : undefined;
  }
  const type = Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;
  switch (type) {
    case 'integer':
      return 'int';
    case 'number':
      return 'float';
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    default:
      if (s.enum !== undefined || typeof s.const === 'string') return 'string';
      return undefined;
  }
}

function planFields(props: Record<string, JsonSchema>, skip: Set<string>, prefix = ''): FieldPlan[] {
  const plans: FieldPlan[] = [];
  for (const [key, schema] of Object.entries(props)) {
    if (skip.has(key)) continue;
    const field = prefix + key;
    if (schema.type === 'object' && schema.properties !== undefined) {
      plans.push({ kind: 'object', key, fields: planFields(schema.properties, new Set(), `${field}_`) });
    } else if (schema.type === 'array') {
      const singular = field.endsWith('s') ? field.slice(0, -1) : field;
      plans.push({ kind: 'list', key, field, countField: `${singular}Count` });
    } else {
      const type = scalarType(schema);
      if (type === undefined) throw new Error(`storage/points: cannot map field "${field}" (schema ${JSON.stringify(schema)}) to an InfluxDB field type`);
      plans.push({ kind: 'scalar', key, field, type });
    }
  }
  return plans;
}

function propertiesOf(schema: z.ZodType): Record<string, JsonSchema> {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as JsonSchema;
  return json.properties ?? {};
}

/** Work out, once, how readings of one kind become points. Throws on a schema it cannot map (a bug in devices/, found at start). */
export function planKind(def: DeviceKindDefinition): KindPlan {
  const telemetryProps = propertiesOf(def.telemetry);
  const skip = new Set(['ts']);
  let subUnits: KindPlan['subUnits'];
  if (def.subUnits !== undefined) {
    const items = telemetryProps[def.subUnits.field]?.items?.properties;
    if (items === undefined) throw new Error(`storage/points: ${def.kind}.subUnits.field "${def.subUnits.field}" is not an array of objects`);
    skip.add(def.subUnits.field);
    subUnits = {
      key: def.subUnits.field,
      tag: def.subUnits.key,
      plan: { measurement: def.subUnits.measurement, fields: planFields(items, new Set([def.subUnits.key])) },
    };
  }
  const eventProps = propertiesOf(def.event);
  const eventUnitTag = def.subUnits !== undefined && eventProps[def.subUnits.key] !== undefined ? def.subUnits.key : undefined;
  return {
    telemetry: { measurement: def.measurement, fields: planFields(telemetryProps, skip) },
    ...(subUnits !== undefined ? { subUnits } : {}),
    event: { measurement: `${def.measurement}_event`, fields: planFields(eventProps, new Set(['ts', 'code', ...(eventUnitTag !== undefined ? [eventUnitTag] : [])])) },
    ...(eventUnitTag !== undefined ? { eventUnitTag } : {}),
  };
}

/** Plans for every known kind, built on first use. */
let plans: Map<DeviceKind, KindPlan> | undefined;
export function kindPlans(): Map<DeviceKind, KindPlan> {
  plans ??= new Map(Object.entries(deviceKinds).map(([kind, def]) => [kind as DeviceKind, planKind(def)]));
  return plans;
}

function addFields(point: Point, plans: FieldPlan[], values: Record<string, unknown>): void {
  for (const plan of plans) {
    const value = values[plan.key];
    if (value === undefined || value === null) continue;
    switch (plan.kind) {
      case 'object':
        if (typeof value === 'object') addFields(point, plan.fields, value as Record<string, unknown>);
        break;
      case 'list': {
        const list = Array.isArray(value) ? value : [];
        point.stringField(plan.field, list.map(String).join(','));
        point.intField(plan.countField, list.length);
        break;
      }
      case 'scalar':
        switch (plan.type) {
          case 'int':
            point.intField(plan.field, value);
            break;
          case 'float':
            point.floatField(plan.field, value);
            break;
          case 'bool':
            point.booleanField(plan.field, value === true);
            break;
          case 'string':
            point.stringField(plan.field, String(value));
            break;
        }
    }
  }
}

function basePoint(measurement: string, reading: Reading): Point {
  const { tags } = reading;
  const point = new Point(measurement)
    .tag('device', tags.device)
    .tag('kind', tags.kind)
    .tag('street', tags.street)
    .tag('community', tags.community)
    .tag('building', tags.building);
  if (tags.substation !== undefined && tags.substation !== '') point.tag('substation', tags.substation);
  // On precall's clock rather than the device's (src/ingest/time.ts): a series of its own, so it
  // never lands on the time of a reading the device stamped itself.
  if (reading.clockCorrected) point.tag('clock', 'receive');
  // Milliseconds as given: the writer writes with precision ms. Same time + tags = same point,
  // which makes replay after an outage idempotent.
  return point.timestamp(String(Math.trunc(reading.time)));
}

/**
 * Points for one reading. Throws (with the field at fault) only when a value does not fit its
 * schema type, which validation already rules out; the writer catches it and records the
 * reading as rejected rather than blocking the queue.
 */
export function readingToPoints(reading: Reading, plansByKind: Map<DeviceKind, KindPlan> = kindPlans()): Point[] {
  const plan = plansByKind.get(reading.kind);
  if (plan === undefined) throw new Error(`storage/points: unknown device kind "${reading.kind}"`);
  const payload = reading.payload as Record<string, unknown>;
  if (reading.channel === 'events') {
    const point = basePoint(plan.event.measurement, reading).tag('code', String(payload.code));
    const unit = plan.eventUnitTag !== undefined ? payload[plan.eventUnitTag] : undefined;
    if (unit !== undefined && unit !== null) point.tag(plan.eventUnitTag!, String(unit));
    addFields(point, plan.event.fields, payload);
    return [point];
  }
  const main = basePoint(plan.telemetry.measurement, reading);
  addFields(main, plan.telemetry.fields, payload);
  const points = [main];
  if (plan.subUnits !== undefined) {
    const units = payload[plan.subUnits.key];
    for (const unit of Array.isArray(units) ? (units as Record<string, unknown>[]) : []) {
      const point = basePoint(plan.subUnits.plan.measurement, reading).tag(plan.subUnits.tag, String(unit[plan.subUnits.tag]));
      addFields(point, plan.subUnits.plan.fields, unit);
      points.push(point);
    }
  }
  return points;
}

/**
 * Line protocol for one reading (ms precision), one line per point: the same text as the
 * client's `Point.toLineProtocol` for the points above (fields and tags sorted by key, the
 * client's own escaping), written straight from the kind's plan. The tag part of a line depends
 * only on the device (and the port or event code), so it is built once per device and reused:
 * this runs for every reading, before its PUBACK.
 */
export function readingToLines(reading: Reading, plansByKind: Map<DeviceKind, KindPlan> = kindPlans()): string[] {
  const plan = plansByKind.get(reading.kind);
  if (plan === undefined) throw new Error(`storage/points: unknown device kind "${reading.kind}"`);
  const payload = reading.payload as Record<string, unknown>;
  const time = String(Math.trunc(reading.time));
  const lines: string[] = [];
  const push = (obj: ObjectPlan, values: Record<string, unknown>, extra?: [string, string], extra2?: [string, string]) => {
    const fields = encodeFields(obj, values);
    if (fields !== '') lines.push(`${tagPrefix(obj.measurement, reading, extra, extra2)} ${fields} ${time}`);
  };
  if (reading.channel === 'events') {
    const unit = plan.eventUnitTag !== undefined ? payload[plan.eventUnitTag] : undefined;
    push(plan.event, payload, ['code', String(payload.code)], unit !== undefined && unit !== null ? [plan.eventUnitTag!, String(unit)] : undefined);
    return lines;
  }
  push(plan.telemetry, payload);
  if (plan.subUnits !== undefined) {
    const units = payload[plan.subUnits.key];
    for (const unit of Array.isArray(units) ? (units as Record<string, unknown>[]) : []) push(plan.subUnits.plan, unit, [plan.subUnits.tag, String(unit[plan.subUnits.tag])]);
  }
  return lines;
}

/** One field of a plan, flattened: where its value is and how it is written. */
interface Leaf {
  field: string;
  /** Escaped field key followed by '='. */
  key: string;
  path: string[];
  type: FieldType | 'list' | 'count';
}

const leavesByPlan = new WeakMap<ObjectPlan, Leaf[]>();

/** The plan's fields in the order Point writes them (sorted by field name). */
function leavesOf(obj: ObjectPlan): Leaf[] {
  let leaves = leavesByPlan.get(obj);
  if (leaves === undefined) {
    const out: Leaf[] = [];
    const walk = (plans: FieldPlan[], path: string[]) => {
      for (const p of plans) {
        if (p.kind === 'object') walk(p.fields, [...path, p.key]);
        else if (p.kind === 'list') {
          out.push({ field: p.field, key: `${escape.tag(p.field)}=`, path: [...path, p.key], type: 'list' });
          out.push({ field: p.countField, key: `${escape.tag(p.countField)}=`, path: [...path, p.key], type: 'count' });
        } else out.push({ field: p.field, key: `${escape.tag(p.field)}=`, path: [...path, p.key], type: p.type });
      }
    };
    walk(obj.fields, []);
    leaves = out.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
    leavesByPlan.set(obj, leaves);
  }
  return leaves;
}

function valueAt(values: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = values;
  for (let i = 0; i < path.length; i++) {
    if (v === undefined || v === null) return undefined;
    // Like addFields: a nested plan is only followed into an object.
    if (i > 0 && typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[path[i]!];
  }
  return v;
}

function encodeFields(obj: ObjectPlan, values: Record<string, unknown>): string {
  let out = '';
  for (const leaf of leavesOf(obj)) {
    const value = valueAt(values, leaf.path);
    if (value === undefined || value === null) continue;
    let text: string;
    switch (leaf.type) {
      case 'list':
        text = escape.quoted((Array.isArray(value) ? value : []).map(String).join(','));
        break;
      case 'count':
        text = `${Array.isArray(value) ? value.length : 0}i`;
        break;
      case 'int': {
        const n = typeof value === 'number' ? value : parseInt(String(value));
        if (isNaN(n) || n <= -9223372036854776e3 || n >= 9223372036854776e3) throw new Error(`invalid integer value for field '${leaf.field}': '${String(value)}'!`);
        text = `${Math.floor(n)}i`;
        break;
      }
      case 'float': {
        const n = typeof value === 'number' ? value : parseFloat(String(value));
        if (!isFinite(n)) throw new Error(`invalid float value for field '${leaf.field}': ${String(value)}`);
        text = String(n);
        break;
      }
      case 'bool':
        text = value === true ? 'T' : 'F';
        break;
      case 'string':
        text = escape.quoted(String(value));
        break;
    }
    out += out === '' ? leaf.key + text : `,${leaf.key}${text}`;
  }
  return out;
}

/** Measurement and tags of a line, per device tags object (ingest shares one per device). */
const prefixes = new WeakMap<object, Map<string, string>>();
/** Per device, at most this many distinct prefixes are kept (ports, event codes); the rest are built each time. */
const MAX_PREFIXES_PER_DEVICE = 64;

function tagPrefix(measurement: string, reading: Reading, extra: [string, string] | undefined, extra2?: [string, string]): string {
  const tags = reading.tags;
  let cache = prefixes.get(tags);
  if (cache === undefined) {
    cache = new Map();
    prefixes.set(tags, cache);
  }
  const clock = reading.clockCorrected ? '\u0000clock' : '';
  const key = (extra === undefined ? measurement : `${measurement}\u0000${extra[0]}\u0000${extra[1]}`) + (extra2 === undefined ? '' : `\u0000${extra2[0]}\u0000${extra2[1]}`) + clock;
  let prefix = cache.get(key);
  if (prefix === undefined) {
    const all: Record<string, string> = { device: tags.device, kind: tags.kind, street: tags.street, community: tags.community, building: tags.building };
    if (tags.substation !== undefined) all.substation = tags.substation;
    if (extra !== undefined) all[extra[0]] = extra[1];
    if (extra2 !== undefined) all[extra2[0]] = extra2[1];
    // On precall's clock rather than the device's: its own series (basePoint says why).
    if (reading.clockCorrected) all.clock = 'receive';
    prefix = escape.measurement(measurement);
    for (const k of Object.keys(all).sort()) if (all[k]) prefix += `,${escape.tag(k)}=${escape.tag(all[k])}`;
    if (cache.size < MAX_PREFIXES_PER_DEVICE) cache.set(key, prefix);
  }
  return prefix;
}

/** Timestamps are already ms strings (basePoint); hoisted so no closure is made per point. */
const AS_IS: Partial<PointSettings> = { convertTime: (v) => (v === undefined ? undefined : String(v)) };

/** The same lines through the client's Point (the reference readingToLines is checked against). */
export function readingToLinesViaPoints(reading: Reading, plansByKind?: Map<DeviceKind, KindPlan>): string[] {
  const lines: string[] = [];
  for (const p of readingToPoints(reading, plansByKind)) {
    const line = p.toLineProtocol(AS_IS);
    if (line !== undefined) lines.push(line);
  }
  return lines;
}

/**
 * Is an alarm flag set in a raw JSON payload? Asked at the back-pressure gate, before the
 * payload is parsed or validated, for every telemetry publish: a scan for `"name"`, then
 * optional whitespace, `:`, optional whitespace and `true`. A hit that is not really the field
 * (the same text inside a string, a key of a nested object) costs only a place in the urgent
 * lane; a miss (an escaped key) only the priority. Validation decides what the reading is.
 */
import { deviceKinds, type DeviceKind } from '../../devices/index.js';

const COLON = 0x3a;
const TRUE = Buffer.from('true');

function isSpace(b: number | undefined): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
}

/** Whether `"<flag>": true` appears in `payload` for one of the needles (each `"<flag>"`). */
export function hasAlarmFlag(payload: Buffer, needles: readonly Buffer[]): boolean {
  for (const needle of needles) {
    for (let at = payload.indexOf(needle); at >= 0; at = payload.indexOf(needle, at + 1)) {
      let i = at + needle.length;
      while (isSpace(payload[i])) i++;
      if (payload[i] !== COLON) continue;
      i++;
      while (isSpace(payload[i])) i++;
      // A payload cut short after the colon is no alarm (and must not read past its end).
      if (i + TRUE.length <= payload.length && payload.compare(TRUE, 0, TRUE.length, i, i + TRUE.length) === 0) return true;
    }
  }
  return false;
}

/** The needles of every kind that declares alarm flags (devices/<kind>/index.ts, `alarmFlags`). */
export function alarmNeedles(): ReadonlyMap<DeviceKind, readonly Buffer[]> {
  const out = new Map<DeviceKind, readonly Buffer[]>();
  for (const [kind, def] of Object.entries(deviceKinds) as [DeviceKind, (typeof deviceKinds)[DeviceKind]][]) {
    const flags: readonly string[] | undefined = def.alarmFlags;
    if (flags !== undefined && flags.length > 0) out.set(kind, flags.map((f) => Buffer.from(`"${f}"`)));
  }
  return out;
}

/** The retained `devices/{id}/status` message and a device's own status payloads. */
import { StatusPayload } from '../../devices/common.js';

export type DeviceState = StatusPayload['state'];

export function statusTopic(deviceId: string): string {
  return `devices/${deviceId}/status`;
}

export function statusPayload(state: DeviceState, ts: number): Buffer {
  const body: StatusPayload = { state, ts };
  return Buffer.from(JSON.stringify(body));
}

/** Parse a status payload sent by a device (publish or will); never throws. */
export function parseStatusPayload(payload: Buffer | string): { ok: true; value: StatusPayload } | { ok: false; problem: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(payload.toString());
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const parsed = StatusPayload.safeParse(raw);
  if (!parsed.success) return { ok: false, problem: parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') };
  return { ok: true, value: parsed.data };
}

/** JSON Schema documents generated from the zod schemas, one per kind and channel. */
import { z } from 'zod';
import { deviceKinds, type DeviceKind } from './index.js';

export function jsonSchemasFor(kind: DeviceKind): { telemetry: unknown; event: unknown } {
  const def = deviceKinds[kind];
  return {
    telemetry: { title: `${def.title.en} telemetry`, ...z.toJSONSchema(def.telemetry, { io: 'input' }) },
    event: { title: `${def.title.en} event`, ...z.toJSONSchema(def.event, { io: 'input' }) },
  };
}

/** File name of the committed JSON Schema for a kind and channel, relative to devices/<kind>/. */
export function jsonSchemaFileName(channel: 'telemetry' | 'event'): string {
  return `${channel}.schema.json`;
}

export function renderJsonSchema(schema: unknown): string {
  return `${JSON.stringify(schema, null, 2)}\n`;
}

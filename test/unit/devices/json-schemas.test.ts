import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEVICE_KINDS } from '../../../devices/index.js';
import { jsonSchemaFileName, jsonSchemasFor, renderJsonSchema } from '../../../devices/json-schemas.js';

const devicesDir = join(import.meta.dirname, '../../../devices');

describe('committed JSON Schemas', () => {
  for (const kind of DEVICE_KINDS) {
    for (const channel of ['telemetry', 'event'] as const) {
      it(`${kind}/${jsonSchemaFileName(channel)} matches the zod schema (run npm run schemas when this fails)`, () => {
        const committed = readFileSync(join(devicesDir, kind, jsonSchemaFileName(channel)), 'utf8');
        expect(committed).toBe(renderJsonSchema(jsonSchemasFor(kind)[channel]));
      });
    }
  }

  it('carries units from the field metadata', () => {
    const schema = jsonSchemasFor('heat-meter').telemetry as { properties: Record<string, { unit?: string }> };
    expect(schema.properties.supplyTempC?.unit).toBe('°C');
    expect(schema.properties.flowM3h?.unit).toBe('m³/h');
  });
});

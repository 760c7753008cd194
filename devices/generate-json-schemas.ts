/** `npm run schemas`: regenerate devices/<kind>/{telemetry,event}.schema.json from the zod schemas. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEVICE_KINDS } from './index.js';
import { jsonSchemaFileName, jsonSchemasFor, renderJsonSchema } from './json-schemas.js';

for (const kind of DEVICE_KINDS) {
  const schemas = jsonSchemasFor(kind);
  for (const channel of ['telemetry', 'event'] as const) {
    const file = join(import.meta.dirname, kind, jsonSchemaFileName(channel));
    writeFileSync(file, renderJsonSchema(schemas[channel]));
    console.log(`wrote ${file}`);
  }
}

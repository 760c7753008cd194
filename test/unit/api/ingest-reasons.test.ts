import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INGEST_REASONS } from '../../../src/ingest/reasons.js';

const doc = readFileSync(new URL('../../../docs/ingest-api.md', import.meta.url), 'utf8');

describe('ingest reason codes', () => {
  it.each(Object.entries(INGEST_REASONS).flatMap(([stage, reasons]) => reasons.map((r) => [stage, r])))('%s/%s is documented', (stage, reason) => {
    expect(doc.split('\n').some((l) => l.includes(`\`${reason}\``) && l.includes(`\`${stage}\``))).toBe(true);
  });
});

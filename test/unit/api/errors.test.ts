import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../../src/api/errors.js';
import { INGEST_REASONS } from '../../../src/ingest/refusal.js';

const doc = readFileSync(new URL('../../../docs/ingest-api.md', import.meta.url), 'utf8');

describe('error catalog', () => {
  it.each(Object.entries(API_ERRORS))('%s is documented in docs/ingest-api.md with its status', (code, { status }) => {
    const line = doc.split('\n').find((l) => l.includes(`\`${code}\``));
    expect(line, `${code} missing from docs/ingest-api.md`).toBeDefined();
    expect(line).toContain(String(status));
  });

  it('codes are PRECALL_ERR_ and statuses are 4xx/5xx', () => {
    for (const [code, { status }] of Object.entries(API_ERRORS)) {
      expect(code).toMatch(/^PRECALL_ERR_[A-Z_]+$/);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});

describe('ingest reason codes', () => {
  it.each(Object.entries(INGEST_REASONS).flatMap(([stage, reasons]) => reasons.map((r) => [stage, r])))('%s/%s is documented', (stage, reason) => {
    expect(doc.split('\n').some((l) => l.includes(`\`${reason}\``) && l.includes(`\`${stage}\``))).toBe(true);
  });
});

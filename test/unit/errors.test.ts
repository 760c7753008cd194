import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from '../../src/errors.js';

// The catalogue is one file; its codes are documented where their routes are described.
const docs = ['docs/ingest-api.md', 'docs/workorders.md', 'docs/console.md'].map((f) => readFileSync(new URL(`../../${f}`, import.meta.url), 'utf8'));

describe('error catalogue (src/errors.ts)', () => {
  it.each(Object.entries(API_ERRORS))('%s is documented with its status', (code, { status }) => {
    const line = docs.flatMap((d) => d.split('\n')).find((l) => l.includes(`\`${code}\``) && l.includes(String(status)));
    expect(line, `${code} (${status}) missing from docs/ingest-api.md, docs/workorders.md and docs/console.md`).toBeDefined();
  });

  it('codes are PRECALL_ERR_ and statuses are 4xx/5xx', () => {
    for (const [code, { status }] of Object.entries(API_ERRORS)) {
      expect(code).toMatch(/^PRECALL_ERR_[A-Z_]+$/);
      expect(status).toBeGreaterThanOrEqual(400);
    }
  });
});

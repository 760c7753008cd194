import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workOrderErrors } from '../../../src/workorders/errors.js';

describe('error catalogue', () => {
  it('every work-order error code is documented in docs/workorders.md with its HTTP status', () => {
    const doc = readFileSync(new URL('../../../docs/workorders.md', import.meta.url), 'utf8');
    const codes = [...Object.entries(workOrderErrors).map(([c, e]) => [c, e.status] as const), ['PRECALL_ERR_COMPLAINT_INVALID', 400] as const, ['PRECALL_ERR_RATE_LIMITED', 429] as const];
    for (const [code, status] of codes) expect(doc, code).toMatch(new RegExp(`\\| \`${code}\` \\| ${status} \\|`));
  });
});

/** Turn zod issues into lines a person can act on: `path.to.field: message`. */
import type { z } from 'zod';

export function formatIssuePath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

export function formatIssues(error: z.ZodError, prefix = ''): string[] {
  return error.issues.map((issue) => `${prefix}${formatIssuePath(issue.path)}: ${issue.message}`);
}

/**
 * Work orders, users and API keys know nothing of HTTP: the API (src/api) and the console build
 * on them, never the other way round. This test reads the imports of every file under
 * src/workorders and src/users and fails when one reaches into src/api, src/console or an HTTP
 * library.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../../..');
const HTTP_PACKAGES = /^(fastify|@fastify\/|node:http|node:https|http$|https$)/;
const HTTP_FOLDERS = ['src/api/', 'src/console/'];

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

/** `file: import` for every import of HTTP code in the folder's files. */
function httpImports(dir: string): string[] {
  return sources(dir).flatMap((file) =>
    ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true).importedFiles.flatMap(({ fileName }) => {
      if (HTTP_PACKAGES.test(fileName)) return [`${file}: ${fileName}`];
      if (!fileName.startsWith('.')) return [];
      const target = relative(root, resolve(root, dirname(file), fileName));
      return HTTP_FOLDERS.some((f) => target.startsWith(f)) ? [`${file}: ${fileName}`] : [];
    }),
  );
}

describe('work orders and users know no HTTP', () => {
  it('reads files in both folders', () => {
    expect(sources('src/workorders').length).toBeGreaterThan(5);
    expect(sources('src/users').length).toBeGreaterThan(1);
  });

  it('no file under src/workorders or src/users imports src/api, src/console or an HTTP library', () => {
    expect([...httpImports('src/workorders'), ...httpImports('src/users')]).toEqual([]);
  });
});

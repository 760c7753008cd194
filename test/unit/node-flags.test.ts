import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NODE_FLAGS } from '../../src/node-flags.js';

const read = (file: string) => readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8');

describe('the Node.js flags precall runs with', () => {
  it('are the same in the precall command, npm start and the Docker image', () => {
    const shebang = read('bin/precall.js').split('\n')[0]!;
    const start = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts.start!;
    const entrypoint = /^ENTRYPOINT (.*)$/m.exec(read('Dockerfile'))?.[1];
    expect(entrypoint).toBeDefined();
    const dockerArgs = JSON.parse(entrypoint!) as string[];
    for (const flag of NODE_FLAGS) {
      expect(shebang.split(' ')).toContain(flag);
      expect(start.split(' ')).toContain(flag);
      expect(dockerArgs.slice(1, dockerArgs.indexOf('bin/precall.js'))).toContain(flag);
    }
  });
});

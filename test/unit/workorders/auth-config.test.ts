import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeys, ApiKeysError, generateApiKey, hashApiKey } from '../../../src/api/auth.js';
import { loadConfig } from '../../../src/config.js';
import { workOrdersFromConfig } from '../../../src/workorders/index.js';
import { WorkOrderSettingsError } from '../../../src/workorders/settings.js';
import { testRegistry } from './fixtures.js';

const dir = mkdtempSync(join(tmpdir(), 'wo-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('API keys', () => {
  it('loads hashed keys from a file and the admin key from the environment', () => {
    const crew = generateApiKey();
    const keys = ApiKeys.load(file('keys.yaml', `keys:\n  - { id: lift-tablet, role: crew, crew: lift-crew, hash: "${crew.hash}" }\n`), 'an-admin-key-of-some-length');
    expect(keys.size).toBe(2);
    expect(keys.verify(crew.key)).toMatchObject({ id: 'lift-tablet', role: 'crew', crew: 'lift-crew' });
    expect(keys.verify('an-admin-key-of-some-length')).toMatchObject({ id: 'admin', role: 'admin' });
    expect(keys.verify('nope')).toBeUndefined();
    expect(hashApiKey(crew.key)).toBe(crew.hash);
    expect(crew.key).toMatch(/^pc_[A-Za-z0-9_-]{43}$/);
  });
  it('reports every problem of a bad keys file', () => {
    const bad = file('bad.yaml', 'keys:\n  - { id: x, role: crew, hash: "sha256:abc" }\n  - { id: y, role: boss, hash: "sha256:' + 'a'.repeat(64) + '" }\n');
    try {
      ApiKeys.load(bad, undefined);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiKeysError);
      const m = (err as Error).message;
      expect(m).toContain('keys[0].hash');
      expect(m).toContain('keys[0].crew: a crew key needs');
      expect(m).toContain('keys[1].role');
    }
    expect(() => ApiKeys.load(join(dir, 'missing.yaml'), undefined)).toThrow(/cannot read it/);
    expect(() => ApiKeys.load(undefined, 'short')).toThrow(/16 characters/);
  });
});

describe('workOrdersFromConfig', () => {
  const base = { DATA_DIR: dir };
  it('generates an admin key for the run when none is configured', () => {
    const r = ApiKeys.forRun(loadConfig(base));
    expect(r.generatedAdminKey).toMatch(/^pc_/);
    expect(r.keys.verify(r.generatedAdminKey!)?.role).toBe('admin');
    expect(ApiKeys.forRun(loadConfig({ ...base, API_ADMIN_KEY: 'x'.repeat(20) })).generatedAdminKey).toBeUndefined();
  });
  it('uses WORKORDERS_FILE and PRECALL_LANG', async () => {
    const wf = file('wo.yaml', 'routes:\n  - { kind: elevator, crew: lift-crew }\nwebhooks:\n  - { url: "http://127.0.0.1:9/hook", format: json }\n');
    const workOrders = workOrdersFromConfig({ config: loadConfig({ ...base, WORKORDERS_FILE: wf, PRECALL_LANG: 'en' }), registry: testRegistry(), logger: pino({ level: 'silent' }) });
    expect(workOrders.lang).toBe('en');
    expect(workOrders.settings.routes).toEqual([{ kind: 'elevator', crew: 'lift-crew' }]);
    await workOrders.stop();
  });
  it('a wrong settings file names the variable and the problems', () => {
    const wf = file('bad-wo.yaml', 'sla:\n  general: { dueMinutes: "soon" }\nwebhooks:\n  - { url: "ftp://x" }\n');
    expect(() => workOrdersFromConfig({ config: loadConfig({ ...base, WORKORDERS_FILE: wf }), registry: testRegistry(), logger: pino({ level: 'silent' }) })).toThrow(WorkOrderSettingsError);
    try {
      workOrdersFromConfig({ config: loadConfig({ ...base, WORKORDERS_FILE: wf }), registry: testRegistry(), logger: pino({ level: 'silent' }) });
    } catch (err) {
      expect((err as Error).message).toContain('WORKORDERS_FILE');
      expect((err as Error).message).toContain('sla.general.dueMinutes');
      expect((err as Error).message).toContain('webhooks[0].url');
    }
  });
});

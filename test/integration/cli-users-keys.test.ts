/**
 * (Each step is a fresh `precall` process, a few seconds each on a busy machine: hence the long timeouts.)
 * `precall users …` and `precall keys create` as an operator runs them (child processes, the
 * password on standard input), and what precall then accepts: the user signs in through the
 * real sign-in code, the key authenticates through the real key check.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiKeys } from '../../src/api/auth.js';
import { SqliteSessionStore, sessionsFile } from '../../src/api/sqlite-session-store.js';
import { loadConfig } from '../../src/config.js';
import { verifySecret } from '../../src/registry/secrets.js';
import { SqliteUserStore, usersFile } from '../../src/users/store.js';
import { precallCommand } from '../support/precall-process.js';

const dataDir = mkdtempSync(join(tmpdir(), 'precall-cli-users-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function precall(args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  delete env.API_KEYS_FILE;
  return precallCommand(args, env, stdin);
}

describe('precall users', () => {
  it('adds, lists, changes the password of and removes users; refuses bad input with a reason', async () => {
    expect(await precall(['users', 'add', 'li', '--role', 'dispatcher'], 'a long enough password\n')).toMatchObject({ code: 0, stdout: 'added li (dispatcher)\n' });
    expect(await precall(['users', 'add', 'zhang', '--role', 'crew', '--crew', 'lift-crew'], 'another long password\n')).toMatchObject({ code: 0 });
    const list = await precall(['users', 'list']);
    expect(list.stdout).toBe('li\tdispatcher\nzhang\tcrew\tlift-crew\n');

    const store = new SqliteUserStore(usersFile(dataDir));
    const li = store.get('li')!;
    expect(li.passwordHash).toMatch(/^scrypt\$/);
    expect(li.passwordHash).not.toContain('a long enough password');
    expect(verifySecret('a long enough password', li.passwordHash)).toBe(true);

    // Sessions in DATA_DIR, as a running precall would have made them: passwd and remove end them.
    const sessions = new SqliteSessionStore(sessionsFile(dataDir), { idleMs: 30 * 60_000 });
    const liSession = sessions.create({ actor: { id: 'li', role: 'dispatcher' }, via: 'password', username: 'li' });
    const zhangSession = sessions.create({ actor: { id: 'zhang', role: 'crew', crew: 'lift-crew' }, via: 'password', username: 'zhang' });
    expect(await precall(['users', 'passwd', 'li'], 'a brand new password\n')).toMatchObject({ code: 0 });
    expect(verifySecret('a brand new password', store.get('li')!.passwordHash)).toBe(true);
    expect(sessions.use(liSession.id)).toBeUndefined();
    expect(sessions.use(zhangSession.id)).toMatchObject({ username: 'zhang' });

    const dup = await precall(['users', 'add', 'li', '--role', 'viewer'], 'whatever password\n');
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('already exists');
    const crewless = await precall(['users', 'add', 'wu', '--role', 'crew'], 'a long enough password\n');
    expect(crewless.code).toBe(2);
    expect(crewless.stderr).toContain('a crew user needs a crew id');
    const short = await precall(['users', 'add', 'wu', '--role', 'viewer'], 'short\n');
    expect(short.code).toBe(2);
    expect(short.stderr).toContain('at least 10 characters');
    const badRole = await precall(['users', 'add', 'wu', '--role', 'boss'], 'a long enough password\n');
    expect(badRole.code).toBe(2);
    expect(badRole.stderr).toMatch(/role.*admin.*dispatcher.*call-taker/);

    expect(await precall(['users', 'remove', 'zhang'])).toMatchObject({ code: 0 });
    expect((await precall(['users', 'remove', 'zhang'])).code).toBe(1);
    expect(store.list().map((u) => u.username)).toEqual(['li']);
    expect(sessions.use(zhangSession.id)).toBeUndefined();
    sessions.close();
    store.close();
  }, 240_000);
});

describe('precall keys create', () => {
  it('prints a key once, stores only its hash, and precall accepts it with its role', async () => {
    const made = await precall(['keys', 'create', '--role', 'crew', '--crew', 'lift-crew', '--id', 'lift-tablet']);
    expect(made.code, made.stderr).toBe(0);
    const key = made.stdout.trim();
    expect(key).toMatch(/^pc_[A-Za-z0-9_-]{40,}$/);
    const file = readFileSync(join(dataDir, 'api-keys.yaml'), 'utf8');
    expect(file).not.toContain(key);
    expect(file).toContain('lift-tablet');
    const second = await precall(['keys', 'create', '--role', 'viewer']);
    expect(second.code).toBe(0);

    const keys = ApiKeys.fromConfig(loadConfig({ DATA_DIR: dataDir }));
    expect(keys.size).toBe(2);
    expect(keys.verify(key)).toMatchObject({ id: 'lift-tablet', role: 'crew', crew: 'lift-crew' });
    expect(keys.verify(second.stdout.trim())).toMatchObject({ role: 'viewer' });
    expect((await precall(['keys', 'list'])).stdout).toContain('lift-tablet\tcrew\tlift-crew');

    const bad = await precall(['keys', 'create', '--role', 'crew']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('a crew key needs `crew: <crew id>`');
    const taken = await precall(['keys', 'create', '--role', 'viewer', '--id', 'lift-tablet']);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('a key with id "lift-tablet" already exists; choose another --id');

    // Revoked: gone from the file (the other entry and the file's comments stay), refused by precall.
    writeFileSync(join(dataDir, 'api-keys.yaml'), `# keys of the Yanshan test district\n${readFileSync(join(dataDir, 'api-keys.yaml'), 'utf8')}`);
    const revoked = await precall(['keys', 'revoke', 'lift-tablet']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stderr).toContain('key "lift-tablet" removed from');
    const after = readFileSync(join(dataDir, 'api-keys.yaml'), 'utf8');
    expect(after).toContain('# keys of the Yanshan test district');
    expect(after).not.toContain('lift-tablet');
    const left = ApiKeys.fromConfig(loadConfig({ DATA_DIR: dataDir }));
    expect(left.verify(key)).toBeUndefined();
    expect(left.verify(second.stdout.trim())).toMatchObject({ role: 'viewer' });
    const again = await precall(['keys', 'revoke', 'lift-tablet']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('no key with id "lift-tablet"');
  }, 240_000);
});

/**
 * `precall users add|list|remove|passwd`: console users where the console keeps them
 * (src/console/keeping.ts: DATA_DIR/users.sqlite, or PostgreSQL with DATABASE_URL). Passwords are
 * read without echo on a terminal, or from the first line of standard input, and stored as scrypt
 * hashes. Works while `precall serve` runs: the server reads users at every sign-in and request,
 * and `remove` and `passwd` end the user's sessions at once (on every instance that shares them).
 */
import { openConsoleKeeping, type ConsoleKeeping } from '../console/keeping.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { PostgresError } from '../postgres/bridge.js';
import { hashSecret } from '../registry/secrets.js';
import { UserExistsError } from '../users/store.js';
import { Password, User, Username } from '../users/user.js';
import { ROLES } from '../workorders/permissions.js';
import { formatIssues } from '../zod-issues.js';
import { parseCommandLine } from './command-args.js';
import { readPassword } from './read-password.js';

const HELP = `usage: precall users <add|list|remove|passwd> [options]

Console users (kept in DATA_DIR/users.sqlite, or in PostgreSQL when DATABASE_URL is set;
the password as a scrypt hash only).

  precall users add NAME --role ROLE [--crew CREW]   add a user; the password is asked for
  precall users list                                  list users and their roles
  precall users remove NAME                           remove a user (signed out at once)
  precall users passwd NAME                           set a new password (signed out everywhere)

Roles: ${ROLES.join(', ')}. A crew user needs --crew (a crew id from WORKORDERS_FILE).
The password is read twice without echo on a terminal, else from the first line of standard input.`;

export async function main(args: string[], env: Record<string, string | undefined> = process.env, now: () => number = Date.now): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  const parsed = parseCommandLine(`users ${sub}`, HELP, rest, { role: { type: 'string' }, crew: { type: 'string' } }, 1);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  let config: Readonly<Config>;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const name = positionals[0];
  const needName = () => {
    const n = Username.safeParse(name);
    if (!n.success) console.error(`precall users ${sub}: ${name === undefined ? 'give the user name' : `user name "${name}": ${formatIssues(n.error).join('; ')}`}\n\n${HELP}`);
    return n.success ? n.data : undefined;
  };
  let keeping: ConsoleKeeping;
  try {
    keeping = openConsoleKeeping(config, now);
  } catch (err) {
    if (!(err instanceof PostgresError)) throw err;
    console.error(`precall users ${sub}: ${err.message}`);
    return 1;
  }
  const store = keeping.users;
  /** Ends the user's console sessions, open live streams included (they re-check their session). */
  const signOut = (username: string) => keeping.sessions.deleteUser(username);
  try {
    switch (sub) {
      case 'list': {
        const users = store.list();
        if (users.length === 0) console.log('no users yet: add one with `precall users add NAME --role dispatcher`');
        for (const u of users) console.log(`${u.username}\t${u.role}${u.crew !== null ? `\t${u.crew}` : ''}`);
        return 0;
      }
      case 'add': {
        const username = needName();
        if (username === undefined) return 2;
        const at = now();
        const draft = { username, role: values.role, crew: values.crew ?? null, passwordHash: 'scrypt$pending', createdAt: at, updatedAt: at };
        const check = User.safeParse(draft);
        if (!check.success) {
          console.error(`precall users add: ${formatIssues(check.error).join('; ')}`);
          return 2;
        }
        const password = await askPassword(`password for ${username}: `);
        if (password === undefined) return 2;
        store.add({ ...check.data, passwordHash: hashSecret(password) });
        console.log(`added ${username} (${check.data.role}${check.data.crew !== null ? `, crew ${check.data.crew}` : ''})`);
        return 0;
      }
      case 'remove': {
        const username = needName();
        if (username === undefined) return 2;
        if (!store.remove(username)) {
          console.error(`precall users remove: no user named "${username}"`);
          return 1;
        }
        signOut(username);
        console.log(`removed ${username}`);
        return 0;
      }
      case 'passwd': {
        const username = needName();
        if (username === undefined) return 2;
        if (store.get(username) === undefined) {
          console.error(`precall users passwd: no user named "${username}"`);
          return 1;
        }
        const password = await askPassword(`new password for ${username}: `);
        if (password === undefined) return 2;
        store.setPassword(username, hashSecret(password), now());
        signOut(username);
        console.log(`password of ${username} changed`);
        return 0;
      }
      default:
        console.error(`precall users: unknown subcommand "${sub}"\n\n${HELP}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UserExistsError) {
      console.error(`precall users add: ${err.message}`);
      return 1;
    }
    throw err;
  } finally {
    keeping.close();
  }
}

async function askPassword(prompt: string): Promise<string | undefined> {
  let password: string;
  try {
    password = await readPassword(prompt);
  } catch (err) {
    console.error(`precall users: ${(err as Error).message}`);
    return undefined;
  }
  const ok = Password.safeParse(password);
  if (!ok.success) {
    console.error(`precall users: password: ${formatIssues(ok.error).join('; ')}`);
    return undefined;
  }
  return password;
}

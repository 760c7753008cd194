/**
 * `precall keys create --role ROLE [--crew CREW] [--id NAME]`: a new API key. The key is printed
 * once; only its SHA-256 is kept: in PostgreSQL when DATABASE_URL is set (every instance re-reads
 * the keys every few seconds, src/api/postgres-keys.ts), else in the keys file (API_KEYS_FILE,
 * else DATA_DIR/api-keys.yaml), which a running precall re-reads when it changes
 * (src/api/keys-watch.ts). `precall keys list` shows the entries (never a key); `precall keys
 * revoke ID` removes one.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, isSeq, parseDocument } from 'yaml';
import { ApiKeyEntry, ApiKeysError, apiKeysFile, generateApiKey, readKeysFile } from '../api/auth.js';
import { KeyIdTakenError, PostgresKeyTable, SHARED_KEYS_POLL_MS } from '../api/postgres-keys.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { PostgresBridge, PostgresError } from '../postgres/bridge.js';
import { ROLES } from '../workorders/permissions.js';
import { formatIssues } from '../zod-issues.js';
import { parseCommandLine } from './command-args.js';

const HELP = `usage: precall keys <create|list|revoke> [options]

API keys for the HTTP API (header "Authorization: Bearer <key>" or "X-API-Key: <key>").

  precall keys create --role ROLE [--crew CREW] [--id NAME] [--description TEXT]
      makes a key, prints it once and stores only its hash
  precall keys list
      the keys (ids, roles, crews; never the keys)
  precall keys revoke ID
      removes a key; it stops working

Roles: ${ROLES.join(', ')}. A crew key needs --crew (a crew id from WORKORDERS_FILE).
Where keys are kept: in PostgreSQL when DATABASE_URL is set (a running precall re-reads them
every ${SHARED_KEYS_POLL_MS / 1000} s); else in the keys file, API_KEYS_FILE, else DATA_DIR/api-keys.yaml (a running
precall re-reads it when it changes).`;

/** Where `precall keys` keeps keys: the file or the PostgreSQL table. */
interface KeyPlace {
  /** For messages: the file's path, or `PostgreSQL host:port/db`. */
  name: string;
  list(): ApiKeyEntry[];
  /** Throws KeyIdTakenError when the id is taken. */
  add(e: ApiKeyEntry): void;
  revoke(id: string): boolean;
  /** When a running precall takes a change. */
  takesEffect: string;
  close(): void;
}

function filePlace(file: string): KeyPlace {
  const read = () => (existsSync(file) ? readKeysFile(file) : []);
  // Keep the operator's comments and layout: edit the YAML document rather than rewriting it.
  const edit = (change: (doc: ReturnType<typeof parseDocument>) => void) => {
    const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : parseDocument('keys: []\n');
    if (!doc.has('keys')) doc.set('keys', []);
    change(doc);
    mkdirSync(dirname(file), { recursive: true });
    // Whole or not at all: a running precall re-reads the file when it changes.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, doc.toString(), { mode: 0o600 });
    renameSync(temp, file);
  };
  return {
    name: file,
    list: read,
    add(e) {
      if (read().some((k) => k.id === e.id)) throw new KeyIdTakenError(e.id);
      edit((doc) => doc.addIn(['keys'], doc.createNode(e, { flow: true })));
    },
    revoke(id) {
      const at = read().findIndex((k) => k.id === id);
      if (at < 0) return false;
      edit((doc) => {
        const seq = doc.get('keys');
        // The entries parsed, so `keys` is a sequence of maps in the file's order.
        if (isSeq(seq)) seq.items = seq.items.filter((item) => !(isMap(item) && item.get('id') === id));
      });
      return true;
    },
    takesEffect: 'within a second',
    close: () => undefined,
  };
}

function postgresPlace(config: Pick<Config, 'DATABASE_URL' | 'DATABASE_TIMEOUT_MS'> & { DATABASE_URL: string }): KeyPlace {
  const db = new PostgresBridge(config.DATABASE_URL, { applicationName: 'precall-keys', connectTimeoutMs: config.DATABASE_TIMEOUT_MS, statementTimeoutMs: config.DATABASE_TIMEOUT_MS });
  try {
    const table = new PostgresKeyTable(db);
    return {
      name: `PostgreSQL ${db.where}`,
      list: () => table.list().keys,
      add: (e) => table.add(e, Date.now()),
      revoke: (id) => table.revoke(id),
      takesEffect: `within ${SHARED_KEYS_POLL_MS / 1000} s`,
      close: () => db.close(),
    };
  } catch (err) {
    db.close();
    throw err;
  }
}

export async function main(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  const parsed = parseCommandLine(`keys ${sub}`, HELP, rest, { role: { type: 'string' }, crew: { type: 'string' }, id: { type: 'string' }, description: { type: 'string' } }, sub === 'revoke' ? 1 : 0);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let place: KeyPlace;
  try {
    const config = loadConfig(env);
    place = config.DATABASE_URL !== undefined ? postgresPlace({ ...config, DATABASE_URL: config.DATABASE_URL }) : filePlace(apiKeysFile(config));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof PostgresError) {
      console.error(`precall keys ${sub}: ${err.message}`);
      return 1;
    }
    throw err;
  }
  try {
    const existing = place.list();
    if (sub === 'list') {
      if (existing.length === 0) console.log(`no keys in ${place.name}: make one with \`precall keys create --role dispatcher\``);
      for (const k of existing) console.log(`${k.id}\t${k.role}${k.crew !== undefined ? `\t${k.crew}` : ''}${k.description !== undefined ? `\t${k.description}` : ''}`);
      return 0;
    }
    if (sub === 'revoke') {
      const id = parsed.positionals[0];
      if (id === undefined) {
        console.error(`precall keys revoke: give the id of the key (see \`precall keys list\`)\n\n${HELP}`);
        return 2;
      }
      if (!place.revoke(id)) {
        console.error(`precall keys revoke: no key with id "${id}" in ${place.name}`);
        return 1;
      }
      console.error(`key "${id}" removed from ${place.name}; a running precall stops accepting it ${place.takesEffect}.`);
      return 0;
    }
    if (sub !== 'create') {
      console.error(`precall keys: unknown subcommand "${sub}"\n\n${HELP}`);
      return 2;
    }
    const { key, hash } = generateApiKey();
    const id = values.id ?? `${values.role ?? 'key'}${values.crew !== undefined ? `-${values.crew}` : ''}-${existing.length + 1}`;
    const entry = ApiKeyEntry.safeParse({ id, role: values.role, hash, ...(values.crew !== undefined ? { crew: values.crew } : {}), ...(values.description !== undefined ? { description: values.description } : {}) });
    if (!entry.success) {
      console.error(`precall keys create: ${formatIssues(entry.error).join('; ')}\n\n${HELP}`);
      return 2;
    }
    place.add(entry.data);
    console.log(key);
    console.error(`key "${id}" (${entry.data.role}${entry.data.crew !== undefined ? `, crew ${entry.data.crew}` : ''}) added to ${place.name}; shown only this once. A running precall takes it ${place.takesEffect}.`);
    return 0;
  } catch (err) {
    if (err instanceof KeyIdTakenError) {
      console.error(`precall keys ${sub}: ${err.message} (in ${place.name})`);
      return 1;
    }
    if (err instanceof ApiKeysError || err instanceof PostgresError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  } finally {
    place.close();
  }
}

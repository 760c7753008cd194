/**
 * `precall keys create --role ROLE [--crew CREW] [--id NAME]`: a new API key. The key is printed
 * once; only its SHA-256 goes into the keys file (API_KEYS_FILE, else DATA_DIR/api-keys.yaml),
 * which a running precall re-reads when it changes (src/api/keys-watch.ts). `precall keys list` shows the
 * entries (never a key).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseDocument } from 'yaml';
import { ApiKeyEntry, ApiKeysError, apiKeysFile, generateApiKey, readKeysFile } from '../api/auth.js';
import { ConfigError, loadConfig } from '../config.js';
import { ROLES } from '../workorders/permissions.js';
import { formatIssues } from '../zod-issues.js';
import { parseCommandLine } from './command-args.js';

const HELP = `usage: precall keys <create|list> [options]

API keys for the HTTP API (header "Authorization: Bearer <key>" or "X-API-Key: <key>").

  precall keys create --role ROLE [--crew CREW] [--id NAME] [--description TEXT]
      makes a key, prints it once and stores only its hash in the keys file
  precall keys list
      the entries of the keys file (ids, roles, crews; never the keys)

Roles: ${ROLES.join(', ')}. A crew key needs --crew (a crew id from WORKORDERS_FILE).
Keys file: API_KEYS_FILE, else DATA_DIR/api-keys.yaml. A running precall re-reads it when it changes.`;

export async function main(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    console.log(HELP);
    return sub === undefined ? 2 : 0;
  }
  const parsed = parseCommandLine(`keys ${sub}`, HELP, rest, { role: { type: 'string' }, crew: { type: 'string' }, id: { type: 'string' }, description: { type: 'string' } }, 0);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  let file: string;
  try {
    file = apiKeysFile(loadConfig(env));
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  try {
    const existing = existsSync(file) ? readKeysFile(file) : [];
    if (sub === 'list') {
      if (existing.length === 0) console.log(`no keys in ${file}: make one with \`precall keys create --role dispatcher\``);
      for (const k of existing) console.log(`${k.id}\t${k.role}${k.crew !== undefined ? `\t${k.crew}` : ''}${k.description !== undefined ? `\t${k.description}` : ''}`);
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
    if (existing.some((k) => k.id === id)) {
      console.error(`precall keys create: a key with id "${id}" is already in ${file}; choose another --id`);
      return 1;
    }
    // Keep the operator's comments and layout: edit the YAML document rather than rewriting it.
    const doc = existsSync(file) ? parseDocument(readFileSync(file, 'utf8')) : parseDocument('keys: []\n');
    if (!doc.has('keys')) doc.set('keys', []);
    doc.addIn(['keys'], doc.createNode(entry.data, { flow: true }));
    mkdirSync(dirname(file), { recursive: true });
    // Whole or not at all: a running precall re-reads the file when it changes.
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, doc.toString(), { mode: 0o600 });
    renameSync(temp, file);
    console.log(key);
    console.error(`key "${id}" (${entry.data.role}${entry.data.crew !== undefined ? `, crew ${entry.data.crew}` : ''}) added to ${file}; shown only this once. A running precall takes it within a second.`);
    return 0;
  } catch (err) {
    if (err instanceof ApiKeysError) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}

#!/usr/bin/env node
/**
 * Random secrets for docker-compose.yml, written to `.env` beside it (or the file given as the
 * first argument), readable by its owner only. Secrets already set there are kept, so running
 * it again changes nothing; docker-compose.yml has no fallback secrets and refuses to start
 * without these. Plain Node, no dependencies: it runs before `npm ci`.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', '.env'));
// The last two are the `scale` profile's: precall's password on Mosquitto, and PostgreSQL's.
const NAMES = ['INFLUX_TOKEN', 'INFLUX_ADMIN_PASSWORD', 'API_ADMIN_KEY', 'GRAFANA_ADMIN_PASSWORD', 'MQTT_BROKER_PASSWORD', 'POSTGRES_PASSWORD'];

const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
const present = new Set([...text.matchAll(/^\s*([A-Z0-9_]+)\s*=\s*\S/gm)].map((m) => m[1]));
const added = NAMES.filter((n) => !present.has(n));
const lines = added.map((n) => `${n}=${randomBytes(24).toString('base64url')}`);
if (added.length > 0) writeFileSync(file, `${text}${text === '' || text.endsWith('\n') ? '' : '\n'}${lines.join('\n')}\n`, { mode: 0o600 });
if (existsSync(file)) chmodSync(file, 0o600);
console.log(added.length > 0 ? `${file}: added ${added.join(', ')}` : `${file}: every secret is already set; nothing changed`);

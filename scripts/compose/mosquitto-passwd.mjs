#!/usr/bin/env node
/**
 * The password file of the `scale` profile's Mosquitto, in clear (`user:password` lines), for
 * `mosquitto_passwd -U` to hash: every device and read-only account of the fleet's
 * credentials.json, and the user `precall` the instances sign in with (MQTT_BROKER_PASSWORD).
 *
 *   node scripts/compose/mosquitto-passwd.mjs CREDENTIALS_JSON OUT_FILE
 *
 * Plain Node, no dependencies. OUT_FILE is readable by its owner only.
 */
import { readFileSync, writeFileSync } from 'node:fs';

const [credentialsFile, out] = process.argv.slice(2);
const precallPassword = process.env.MQTT_BROKER_PASSWORD;
if (credentialsFile === undefined || out === undefined) {
  console.error('usage: node scripts/compose/mosquitto-passwd.mjs CREDENTIALS_JSON OUT_FILE (with MQTT_BROKER_PASSWORD set)');
  process.exit(2);
}
if (precallPassword === undefined || precallPassword === '') {
  console.error('MQTT_BROKER_PASSWORD is not set: run node scripts/compose-secrets.mjs first');
  process.exit(2);
}
const credentials = JSON.parse(readFileSync(credentialsFile, 'utf8'));
const lines = [`precall:${precallPassword}`];
for (const d of credentials.devices ?? []) lines.push(`${d.id}:${d.secret}`);
for (const o of credentials.operators ?? []) lines.push(`${o.username}:${o.password}`);
// A colon or a line break would split an entry; ids and generated secrets never have them.
const bad = lines.find((l) => /[\r\n]/.test(l) || l.indexOf(':') !== l.lastIndexOf(':'));
if (bad !== undefined) {
  console.error(`cannot write "${bad.split(':')[0]}": its name or password has a ":" or a line break`);
  process.exit(1);
}
writeFileSync(out, `${lines.join('\n')}\n`, { mode: 0o600 });
console.log(`${out}: ${lines.length} users (precall, ${credentials.devices?.length ?? 0} devices, ${credentials.operators?.length ?? 0} accounts)`);

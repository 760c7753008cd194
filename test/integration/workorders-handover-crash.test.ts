/**
 * Nothing lost between rules and work orders (issue 12, item 16): precall is SIGKILLed at the two
 * moments between a rule's raise and the crew's message, then started again on the same DATA_DIR.
 *   - after the rule state and its signal are committed, before work orders see the signal;
 *   - after the order and its delivery rows are committed, before rules hear back or anything is sent.
 * Either way the order appears exactly once (one opening, fold count 1) and each channel's
 * message is recorded once and sent once: the crew's webhook receives one `opened`.
 * Real parts: precall's composition in a child process (test/support/handover-child.ts), a real
 * MQTT client as the charging pile, a real HTTP receiver as the crew's webhook, the SQLite files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry, WorkOrder } from '../../src/workorders/model.js';
import { childEnv, makeFleetDir } from '../support/precall-process.js';

const CHILD = fileURLToPath(new URL('../support/handover-child.ts', import.meta.url));
const KEY = 'handover-test-admin-key-0123456789';
let dir: string;
let pile: { id: string; secret: string };
let receiver: Server;
const received: { event: string; code: string }[] = [];

beforeAll(async () => {
  dir = await makeFleetDir('precall-handover', 6);
  const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { devices: { id: string; kind: string; secret: string }[] };
  pile = creds.devices.find((d) => d.kind === 'ebike-charger')!;
  writeFileSync(join(dir, 'rules.yaml'), 'version: 1\noverrides:\n  - rule: charger-port-hot\n    set: { forS: 0, minReadings: 1 }\n');
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const m = JSON.parse(body) as { type: string; order: { code: string } };
      received.push({ event: m.type, code: m.order.code });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  writeFileSync(join(dir, 'workorders.yaml'), `webhooks:\n  - { url: "http://127.0.0.1:${port}/hook", format: json }\ndelivery: { backoffSeconds: 0.2, maxBackoffSeconds: 1 }\n`);
});
afterAll(async () => {
  await new Promise((r) => receiver?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

function start(dataDir: string, killAt?: 'signal' | 'order'): { child: ChildProcess; ready: Promise<{ http: number; mqtt: number }>; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: childEnv({
      DATA_DIR: dataDir,
      FLEET_FILE: join(dir, 'fleet.yaml'),
      RULES_FILE: join(dir, 'rules.yaml'),
      WORKORDERS_FILE: join(dir, 'workorders.yaml'),
      API_ADMIN_KEY: KEY,
      LOG_LEVEL: 'warn',
      ...(killAt !== undefined ? { KILL_AT: killAt } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
  const ready = new Promise<{ http: number; mqtt: number }>((res, rej) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /^ready (\d+) (\d+)$/m.exec(out);
      if (m !== null) res({ http: Number(m[1]), mqtt: Number(m[2]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((sig) => rej(new Error(`precall exited (${sig}) before it was ready:\n${out.slice(-2000)}`)));
  });
  return { child, ready, exited };
}

/** The pile reports port 3 at 65 °C (charger-port-hot, held 0 s here). The PUBACK may never come: precall may die first. */
async function publishHot(port: number): Promise<void> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, username: pile.id, password: pile.secret, clientId: pile.id, reconnectPeriod: 0 });
  const ports = [1, 2, 3].map((n) => ({ port: n, state: 'charging', fault: 'none', powerW: 250, voltageV: 48, currentA: 5.2, sessionEnergyKwh: 0.3, sessionMinutes: 40, tempC: n === 3 ? 65 : 24 }));
  const payload = { ts: Date.now(), seq: 1, inputVoltageV: 221, ambientTempC: 12, totalPowerW: 750, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports };
  client.on('error', () => undefined);
  client.publish(`devices/${pile.id}/telemetry`, JSON.stringify(payload), { qos: 1 }, () => void client.end(true));
}

/** Read a SQLite file of the stopped process. */
function query<T>(file: string, sql: string): T[] {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all() as T[];
  } finally {
    db.close();
  }
}

async function api<T>(http: number, path: string): Promise<T> {
  const res = await fetch(`http://127.0.0.1:${http}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  return (await res.json()) as T;
}

describe('hand-over from rules to work orders across a SIGKILL', () => {
  for (const killAt of ['signal', 'order'] as const) {
    it(`killed after the ${killAt === 'signal' ? 'signal was committed, before the order' : 'order was committed, before rules heard back'}: one order, one message per channel`, async () => {
      const dataDir = join(dir, `data-${killAt}`);
      const before = received.length;
      const first = start(dataDir, killAt);
      try {
        await publishHot((await first.ready).mqtt);
        expect(await first.exited).toBe('SIGKILL');
      } finally {
        first.child.kill('SIGKILL');
      }

      // Where the crash left things.
      const wo = join(dataDir, 'workorders.sqlite');
      const queued = query<{ id: number }>(join(dataDir, 'rule-state.db'), 'SELECT id FROM signal_outbox');
      expect(queued, 'the signal is queued with the rule state').toHaveLength(1);
      const ordersAtCrash = query<{ code: string }>(wo, 'SELECT code FROM work_orders');
      if (killAt === 'signal') {
        expect(ordersAtCrash).toEqual([]);
      } else {
        expect(ordersAtCrash).toHaveLength(1);
        expect(query<{ status: string }>(wo, 'SELECT status FROM deliveries').map((d) => d.status)).toEqual(['pending', 'pending']);
      }
      expect(received.length - before, 'nothing was sent before the crash').toBe(0);

      const second = start(dataDir);
      try {
        const { http } = await second.ready;
        await expect.poll(() => received.length - before, { timeout: 20_000, interval: 100 }).toBeGreaterThanOrEqual(1);
        const list = await api<{ items: WorkOrder[] }>(http, '/api/work-orders?limit=50');
        expect(list.items.map((o) => [o.openKey, o.count])).toEqual([[`socket-overheat@port:${pile.id}/p3`, 1]]);
        const code = list.items[0]!.code;
        if (killAt === 'order') expect(code).toBe(ordersAtCrash[0]!.code);
        type Detail = { history: HistoryEntry[]; deliveries: { channel: string; event: string; status: string }[] };
        await expect.poll(async () => (await api<Detail>(http, `/api/work-orders/${code}`)).deliveries.map((d) => `${d.channel} ${d.event} ${d.status}`).sort(), { timeout: 20_000, interval: 100 }).toEqual(['mqtt opened sent', 'webhook opened sent']);
        const detail = await api<Detail>(http, `/api/work-orders/${code}`);
        expect(detail.history.map((h) => h.to)).toEqual(['open']);
        // Settled: rules have forgotten the signal; nothing else arrives.
        await new Promise((r) => setTimeout(r, 500));
        expect(received.slice(before)).toEqual([{ event: 'opened', code }]);
      } finally {
        second.child.kill('SIGTERM');
        await second.exited;
      }
      expect(query(join(dataDir, 'rule-state.db'), 'SELECT id FROM signal_outbox')).toEqual([]);
      expect(query(wo, 'SELECT origin, id FROM signal_handovers')).toEqual([]);
    }, 90_000);
  }
});

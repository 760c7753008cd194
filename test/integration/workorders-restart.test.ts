/**
 * Restart mid-incident: a real `precall serve` process (bin/precall.js) is SIGKILLed between two
 * signals of one problem family on one charging port, then started again on the same DATA_DIR.
 * A real MQTT client publishes as the pile. The second signal must fold into (and upgrade) the
 * order the first one opened: one incident, one order, across the crash.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry, WorkOrder } from '../../src/workorders/model.js';
import { childEnv, makeFleetDir, PRECALL_BIN } from '../support/precall-process.js';

const BIN = PRECALL_BIN;
const KEY = 'restart-test-admin-key-0123456789';
let dir: string;
let pile: { id: string; secret: string };

beforeAll(async () => {
  dir = await makeFleetDir('precall-restart', 6);
  const creds = JSON.parse(readFileSync(join(dir, 'credentials.json'), 'utf8')) as { devices: { id: string; kind: string; secret: string }[] };
  pile = creds.devices.find((d) => d.kind === 'ebike-charger')!;
  // Operator overrides so that the test does not wait out the holds (60 s and 30 s, over 3 and 2
  // reports, by default).
  writeFileSync(
    join(dir, 'rules.yaml'),
    'version: 1\noverrides:\n  - rule: charger-port-hot\n    set: { forS: 0, minReadings: 1 }\n  - rule: charger-port-overtemp\n    set: { forS: 0, minReadings: 1 }\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function serve(): { child: ChildProcess; ready: Promise<{ http: number; mqtt: number }> } {
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: childEnv({
      DATA_DIR: join(dir, 'data'),
      FLEET_FILE: join(dir, 'fleet.yaml'),
      RULES_FILE: join(dir, 'rules.yaml'),
      API_ADMIN_KEY: KEY,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise<{ http: number; mqtt: number }>((res, rej) => {
    const onData = (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.includes('"msg":"precall started"'));
      if (line === undefined) return;
      const http = /"http":\{"host":"127\.0\.0\.1","port":(\d+)\}/.exec(line);
      const broker = /"mqtt":\{"host":"127\.0\.0\.1","port":(\d+)\}/.exec(line);
      if (http !== null && broker !== null) res({ http: Number(http[1]), mqtt: Number(broker[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => rej(new Error(`precall serve exited with ${code}:\n${out.slice(-2000)}`)));
  });
  return { child, ready };
}

/** One telemetry message from the pile, port 3 at `tempC`, as a real device client. */
async function publish(port: number, tempC: number, seq: number): Promise<void> {
  const client = await mqtt.connectAsync({ host: '127.0.0.1', port, username: pile.id, password: pile.secret, clientId: pile.id, reconnectPeriod: 0 });
  const now = Date.now();
  const ports = [1, 2, 3].map((n) => ({ port: n, state: 'charging', fault: 'none', powerW: 250, voltageV: 48, currentA: 5.2, sessionEnergyKwh: 0.3, sessionMinutes: 40, tempC: n === 3 ? tempC : 24 }));
  const payload = { ts: now, seq, inputVoltageV: 221, ambientTempC: 12, totalPowerW: 750, smoke: false, heatAlarm: false, flooding: false, powerCut: false, ports };
  await client.publishAsync(`devices/${pile.id}/telemetry`, JSON.stringify(payload), { qos: 1 });
  await client.endAsync();
}

async function orders(http: number): Promise<WorkOrder[]> {
  const res = await fetch(`http://127.0.0.1:${http}/api/work-orders?limit=50`, { headers: { authorization: `Bearer ${KEY}` } });
  return ((await res.json()) as { items: WorkOrder[] }).items;
}

describe('restart mid-incident (SIGKILL of precall serve)', () => {
  it('two signals of one family on one port, a SIGKILL between them: still one order, upgraded', async () => {
    const first = serve();
    try {
      const a = await first.ready;
      await publish(a.mqtt, 65, 1);
      await expect.poll(async () => (await orders(a.http)).map((o) => o.openKey), { timeout: 20_000, interval: 200 }).toEqual([`socket-overheat@port:${pile.id}/p3`]);
      const [opened] = await orders(a.http);
      expect(opened).toMatchObject({ priority: 'P2', ruleId: 'charger-port-hot' });
      first.child.kill('SIGKILL');
      await new Promise((r) => first.child.once('exit', r));

      const second = serve();
      try {
        const b = await second.ready;
        await publish(b.mqtt, 85, 2);
        await expect.poll(async () => (await orders(b.http)).map((o) => [o.code, o.priority]), { timeout: 20_000, interval: 200 }).toEqual([[opened!.code, 'P1']]);
        const res = await fetch(`http://127.0.0.1:${b.http}/api/work-orders/${opened!.code}`, { headers: { authorization: `Bearer ${KEY}` } });
        const body = (await res.json()) as { order: WorkOrder; history: HistoryEntry[] };
        expect(body.order.signals.map((s) => [s.ruleId, s.active]).sort()).toEqual([
          ['charger-port-hot', true],
          ['charger-port-overtemp', true],
        ]);
        expect(body.history.map((h) => h.change ?? h.to)).toEqual(['open', 'upgraded']);
      } finally {
        second.child.kill('SIGKILL');
      }
    } finally {
      first.child.kill('SIGKILL');
    }
  }, 120_000);
});

/**
 * The broker area's durable aedes persistence (src/broker/sqlite-persistence.ts) with work-order
 * delivery: a crew app with a persistent session that was offline gets
 * the work-order events it missed although the broker restarted in between. Real aedes, real
 * MQTT.js client, real work-order component publishing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { createWorkOrders } from '../../src/workorders/component.js';
import { SqlitePersistence } from '../../src/broker/sqlite-persistence.js';
import { aedesCrewPublisher, crewTopic } from '../../src/workorders/delivery/mqtt.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

const settings = parseSettings({ routes: [{ kind: 'elevator', crew: 'lift-crew' }] });
const cleanups: (() => Promise<unknown>)[] = [];
let dir = '';
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function broker(file: string, port = 0) {
  const persistence = new SqlitePersistence({ file });
  const aedes = await Aedes.createBroker({ persistence: persistence as never });
  const errors: string[] = [];
  aedes.on('clientError', (c, err) => errors.push(`${c.id}: ${err.message}`));
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const stop = async () => {
    await new Promise<void>((r) => aedes.close(() => r()));
    await new Promise<void>((r) => server.close(() => r()));
    await persistence.destroy().catch(() => undefined);
  };
  cleanups.push(stop);
  return { aedes, port: (server.address() as AddressInfo).port, stop, errors };
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
}

describe('work-order delivery with the SQLite broker persistence', () => {
  it('queued QoS 1 work-order events for an offline crew survive a broker restart', async () => {
    dir = mkdtempSync(join(tmpdir(), 'wo-aedes-'));
    const brokerDb = join(dir, 'broker.sqlite');
    const b1 = await broker(brokerDb);
    // The crew app subscribes once with a persistent session, then goes offline.
    const crew = await connectAsync(`mqtt://127.0.0.1:${b1.port}`, { clientId: 'crew-app-lift', clean: false, reconnectPeriod: 0 });
    await crew.subscribeAsync(crewTopic('lift-crew'), { qos: 1 });
    await crew.endAsync();

    const wo = createWorkOrders({ dbPath: join(dir, 'wo.sqlite'), registry: testRegistry(), settings, crewPublisher: aedesCrewPublisher(b1.aedes) });
    cleanups.push(() => wo.stop());
    const missed = [wo.onSignal(signal({ ruleId: 'a' }))!.code, wo.onSignal(signal({ ruleId: 'b' }))!.code];
    await wo.idle();
    await b1.stop();
    cleanups.splice(cleanups.indexOf(b1.stop), 1);

    const b2 = await broker(brokerDb);
    const got: string[] = [];
    const back = await connectAsync(`mqtt://127.0.0.1:${b2.port}`, { clientId: 'crew-app-lift', clean: false, reconnectPeriod: 0, manualConnect: false });
    cleanups.push(() => back.endAsync(true));
    back.on('message', (topic, payload) => {
      if (topic === crewTopic('lift-crew')) got.push((JSON.parse(payload.toString('utf8')) as { order: { code: string } }).order.code);
    });
    await waitFor(() => got.length >= 2);
    expect(got.sort()).toEqual(missed.sort());
    // Acknowledged messages leave the queue: a third session start delivers nothing again.
    await back.endAsync();
    const again: string[] = [];
    const third = await connectAsync(`mqtt://127.0.0.1:${b2.port}`, { clientId: 'crew-app-lift', clean: false, reconnectPeriod: 0 });
    cleanups.push(() => third.endAsync(true));
    third.on('message', (t) => again.push(t));
    await new Promise((r) => setTimeout(r, 300));
    expect(again).toEqual([]);
    expect(b2.errors).toEqual([]);
  });
});

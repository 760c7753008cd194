/**
 * What a crew receives for one hot socket that gets worse: a real embedded broker with a crew app
 * (MQTT.js) on `crews/pile-crew/work-orders`, and a real HTTP receiver standing in for the JSON
 * webhook, the WeCom robot and the DingTalk robot. Port hot, then over-temperature, then the
 * pile's heat alarm: every channel gets exactly one "new order" and one "upgraded" message.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedBroker } from '../../src/broker/embedded-broker.js';
import { loadConfig } from '../../src/config.js';
import { createWorkOrders } from '../../src/workorders/component.js';
import { crewTopic } from '../../src/workorders/delivery/mqtt.js';
import { webhookNotifier } from '../../src/workorders/delivery/webhook.js';
import { parseSettings } from '../../src/workorders/settings.js';
import { makeTestFleet } from '../support/fleet.js';
import { signal, testRegistry } from '../unit/workorders/fixtures.js';

describe('an upgraded order on every channel', () => {
  const got: { path: string; body: string }[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      got.push({ path: req.url?.split('?')[0] ?? '', body });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"errcode":0,"errmsg":"ok"}');
    });
  });
  const fleet = makeTestFleet({ perKind: 1, operators: [{ username: 'pile-crew-app', allow: ['crews/pile-crew/#'] }] });
  const broker = new EmbeddedBroker({ config: loadConfig({}, { MQTT_HOST: '127.0.0.1', MQTT_PORT: 0 }), registry: fleet.registry, logger: pino({ level: 'silent' }), ingest: { accept: (_m, done) => done() } });

  afterAll(async () => {
    await broker.stop().catch(() => undefined);
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('port hot → over-temperature → heat alarm: one "opened" and one "upgraded" per channel', async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const http = (server.address() as AddressInfo).port;
    const { port } = await broker.start();
    const settings = parseSettings({
      crews: [{ id: 'pile-crew' }],
      routes: [{ kind: 'ebike-charger', crew: 'pile-crew' }],
      webhooks: [
        { url: `http://127.0.0.1:${http}/hook`, format: 'json' },
        { url: `http://127.0.0.1:${http}/wecom`, format: 'wecom' },
        { url: `http://127.0.0.1:${http}/dingtalk`, format: 'dingtalk', secret: 'SEC-test' },
      ],
    });
    const notifiers = settings.webhooks.map((h) => webhookNotifier(h, 'zh', { timeoutMs: 2000, now: Date.now }));
    const wo = createWorkOrders({ dbPath: ':memory:', registry: testRegistry(), settings, crewPublisher: broker, notifiers });
    wo.start();
    const app = await mqtt.connectAsync({ host: '127.0.0.1', port, username: 'pile-crew-app', password: fleet.secretOf('pile-crew-app'), clientId: 'pile-crew-app', reconnectPeriod: 0 });
    const crew: { type: string; text: string }[] = [];
    app.on('message', (topic, p) => {
      if (topic === crewTopic('pile-crew')) crew.push(JSON.parse(p.toString('utf8')) as { type: string; text: string });
    });
    await app.subscribeAsync(crewTopic('pile-crew'), { qos: 1 });

    const socket = { deviceId: 'pile-3-1', kind: 'ebike-charger' as const, port: 3, family: 'socket-overheat', fireRisk: true as const };
    const hot = wo.onSignal(signal({ ...socket, ruleId: 'charger-port-hot', severity: 'major', caseClass: 'general', message: { id: 'rule.charger-port-hot', params: { device: 'pile-3-1', port: 3, value: 64 } } }))!;
    expect(hot.priority).toBe('P2');
    wo.onSignal(signal({ ...socket, ruleId: 'charger-port-overtemp', severity: 'critical', caseClass: 'life-safety', message: { id: 'rule.charger-port-overtemp', params: { device: 'pile-3-1', port: 3, value: 84 } } }));
    wo.onSignal(
      signal({
        deviceId: 'pile-3-1',
        kind: 'ebike-charger',
        ruleId: 'charger-smoke',
        family: 'fire-alarm',
        fireRisk: true,
        severity: 'critical',
        caseClass: 'life-safety',
        explainedBy: [{ family: 'socket-overheat', scope: 'device' }],
        message: { id: 'rule.charger-smoke', params: { device: 'pile-3-1' } },
      }),
    );
    await wo.idle();
    await expect.poll(() => crew.map((m) => m.type), { timeout: 5000 }).toEqual(['opened', 'upgraded']);
    await expect.poll(() => got.map((g) => g.path).sort(), { timeout: 5000 }).toEqual(['/dingtalk', '/dingtalk', '/hook', '/hook', '/wecom', '/wecom']);
    // A moment more: nothing else arrives (the heat alarm joined the order as evidence).
    await new Promise((r) => setTimeout(r, 300));
    expect(crew).toHaveLength(2);
    expect(got).toHaveLength(6);

    const title = '充电桩3号口温度过高，有起火风险';
    expect(crew[1]!.text).toBe(`【工单升级 P2→P1】${hot.code} ${title}`);
    const json = got.filter((g) => g.path === '/hook').map((g) => JSON.parse(g.body) as { type: string; from?: string; to?: string; order: { priority: string; openKey: string } });
    expect(json[1]).toMatchObject({ type: 'upgraded', from: 'P2', to: 'P1', order: { priority: 'P1', openKey: 'socket-overheat@port:pile-3-1/p3' } });
    const wecom = got.filter((g) => g.path === '/wecom').map((g) => (JSON.parse(g.body) as { markdown: { content: string } }).markdown.content);
    expect(wecom[1]).toContain(`### 【工单升级 P2→P1】${hot.code} ${title}`);
    // Sent at the upgrade: what had been seen by then (the heat alarm came after).
    expect(wecom[1]).toMatch(/另见：充电桩3号口发热（预警）$/m);
    const ding = got.filter((g) => g.path === '/dingtalk').map((g) => JSON.parse(g.body) as { markdown: { title: string; text: string } });
    expect(ding[1]!.markdown.title).toBe(`【工单升级 P2→P1】${hot.code} ${title}`);
    await app.endAsync();
    await wo.stop();
  });
});

import { describe, expect, it } from 'vitest';
import { ackedFromMetrics, formatCluster, summariseCluster, type InstanceAnswer } from '../../../src/commands/cluster.js';

function answer(url: string, instance: string, o: { group?: string; mode?: string; backlog?: number; oldestAgeMs?: number; sick?: string; acked?: number; parts?: string; partitions?: number; lagMs?: number; inboxQueued?: number } = {}): InstanceAnswer {
  const mode = o.mode ?? 'external';
  return {
    url,
    health: {
      healthy: o.sick === undefined,
      components: [
        { name: 'broker', healthy: true, status: 'subscribed', details: { instance, mode, ...(mode === 'external' ? { group: o.group ?? 'yanshan' } : {}) } },
        { name: 'influx', healthy: o.sick === undefined, status: o.sick ?? 'ok' },
        { name: 'outbox', healthy: true, status: 'ok', details: { backlog: o.backlog ?? 0, oldestAgeMs: o.oldestAgeMs ?? 0 } },
        ...(o.parts !== undefined ? [{ name: 'partitions', healthy: true, status: 'owns', details: { partitions: o.partitions ?? 8, parts: o.parts, owned: 0 } }] : []),
        ...(o.lagMs !== undefined ? [{ name: 'partition inbox', healthy: true, status: 'forwarded', details: { lagMs: o.lagMs, queued: o.inboxQueued ?? 0 } }] : []),
      ],
    },
    metrics: [
      '# HELP precall_mqtt_external_messages_total x',
      `precall_mqtt_external_messages_total{channel="telemetry",result="acked"} ${o.acked ?? 10}`,
      'precall_mqtt_external_messages_total{channel="events",result="acked"} 2',
      'precall_mqtt_external_messages_total{channel="telemetry",result="not-durable"} 7',
    ].join('\n'),
  };
}

describe('precall cluster', () => {
  it('lists every instance with its group, share and backlog, and finds nothing wrong with a sound set', () => {
    const r = summariseCluster([answer('http://a:8080', 'p-1', { acked: 40 }), answer('http://b:8080', 'p-2', { backlog: 12, oldestAgeMs: 3400 })]);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.instances.map((i) => [i.instance, i.group, i.acked, i.backlog])).toEqual([
      ['p-1', 'yanshan', 42, 0],
      ['p-2', 'yanshan', 12, 12],
    ]);
    const text = formatCluster(r);
    expect(text).toMatch(/^instance\s+mode\s+group\s+health\s+acked\s+backlog\s+oldest\s+owned\s+parts\s+rules lag\s+inbox\s+url$/m);
    expect(text).toMatch(/^p-2\s+external\s+yanshan\s+ok\s+12\s+12\s+3 s\s+-\s+-\s+-\s+-\s+http:\/\/b:8080$/m);
    expect(text).toContain('2 instance(s), no problems');
  });

  it('says which instance did not answer or is unhealthy', () => {
    const r = summariseCluster([answer('http://a:8080', 'p-1'), { url: 'http://b:8080', error: 'connect ECONNREFUSED 10.0.0.2:8080' }, answer('http://c:8080', 'p-3', { sick: 'InfluxDB unreachable' })]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['http://b:8080 did not answer: connect ECONNREFUSED 10.0.0.2:8080', 'http://c:8080 is unhealthy (influx: InfluxDB unreachable)']);
    expect(formatCluster(r)).toMatch(/^\?\s+\?\s+-\s+no answer\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+http:\/\/b:8080$/m);
  });

  it('finds two instances under one id and instances in different groups', () => {
    const r = summariseCluster([answer('http://a:8080', 'p-1'), answer('http://b:8080', 'p-1'), answer('http://c:8080', 'p-3', { group: 'other' }), answer('http://d:8080', 'p-4', { mode: 'embedded' })]);
    expect(r.problems).toEqual([
      'instance id p-1 is used by http://a:8080 and http://b:8080: they share one MQTT client id and take the broker session from each other; give each its own PRECALL_INSTANCE_ID',
      'the instances are not in one shared-subscription group: yanshan, other, (embedded broker)',
    ]);
  });

  it('shows the partitions each instance holds, and finds none missing or doubled in a sound set', () => {
    const r = summariseCluster([answer('http://a:8080', 'p-1', { parts: '0-3' }), answer('http://b:8080', 'p-2', { parts: '4-7' })]);
    expect(r.problems).toEqual([]);
    expect(r.instances.map((i) => [i.instance, i.partitions, i.parts])).toEqual([
      ['p-1', 8, [0, 1, 2, 3]],
      ['p-2', 8, [4, 5, 6, 7]],
    ]);
    expect(formatCluster(r)).toMatch(/^p-2\s+external\s+yanshan\s+ok\s+12\s+0\s+-\s+4\/8\s+4-7\s+-\s+-\s+http:\/\/b:8080$/m);
  });

  it('shows how far each instance judges behind and reports one past the limit', () => {
    const answers = [answer('http://a:8080', 'p-1', { parts: '0-3', lagMs: 2300, inboxQueued: 40 }), answer('http://b:8080', 'p-2', { parts: '4-7', lagMs: 95_000 })];
    const r = summariseCluster(answers);
    expect(r.instances.map((i) => [i.instance, i.rulesLagMs, i.inboxQueued])).toEqual([
      ['p-1', 2300, 40],
      ['p-2', 95_000, 0],
    ]);
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual(['p-2 judges its partitions 95 s behind (the oldest inbox row waiting for it; limit 30 s): its rules see readings late, so orders come late']);
    expect(formatCluster(r)).toMatch(/^p-1\s+external\s+yanshan\s+ok\s+12\s+0\s+-\s+4\/8\s+0-3\s+2\.3 s\s+40\s+http:\/\/a:8080$/m);
    // A wider limit (--max-lag 120) accepts it.
    expect(summariseCluster(answers, 120_000).ok).toBe(true);
  });

  it('finds a partition held twice, partitions nobody holds, and a disagreement on their number', () => {
    const doubled = summariseCluster([answer('http://a:8080', 'p-1', { parts: '0-4' }), answer('http://b:8080', 'p-2', { parts: '4-7' })]);
    expect(doubled.problems).toEqual(['partition(s) 4 held by more than one instance (p-1, p-2): their clocks or leases disagree']);
    const gap = summariseCluster([answer('http://a:8080', 'p-1', { parts: '0-2' }), answer('http://b:8080', 'p-2', { parts: '6-7' })]);
    expect(gap.ok).toBe(false);
    expect(gap.problems).toEqual([
      '3 of 8 partition(s) held by none of these instances (3-5): their devices wait for an owner (a lease expiring after an instance died, or an instance not listed here)',
    ]);
    // One did not answer: it may hold what is missing, so only its silence is a problem.
    const silent = summariseCluster([answer('http://a:8080', 'p-1', { parts: '0-2' }), { url: 'http://b:8080', error: 'timeout' }]);
    expect(silent.problems).toEqual(['http://b:8080 did not answer: timeout']);
    const totals = summariseCluster([answer('http://a:8080', 'p-1', { parts: '0-7' }), answer('http://b:8080', 'p-2', { parts: '', partitions: 16 })]);
    expect(totals.problems[0]).toBe('the instances do not agree on the number of partitions: 8, 16 (PARTITIONS)');
  });

  it('counts accepted messages of an embedded broker when there is no external counter', () => {
    expect(ackedFromMetrics('precall_messages_accepted_total{kind="elevator",channel="telemetry"} 5\nprecall_messages_accepted_total{kind="elevator",channel="status"} 9\nprecall_messages_accepted_total{kind="heat-meter",channel="events"} 1')).toBe(6);
    expect(ackedFromMetrics('')).toBeNull();
  });
});

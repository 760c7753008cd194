import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, EnvSchema, loadConfig } from '../../src/config.js';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('gives the documented defaults for an empty environment, frozen', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      MQTT_PORT: 1883,
      HTTP_PORT: 8080,
      MQTT_MAX_PACKET_BYTES: 65536,
      INGEST_MAX_FUTURE_MS: 300_000,
      INGEST_MAX_AGE_MS: 604_800_000,
      REJECTED_KEEP: 1000,
      LOG_LEVEL: 'info',
      FLEET_FILE: undefined,
      INFLUX_URL: undefined,
    });
    expect(c.dataDir).toBe(resolve('.data'));
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('reads numbers from strings and treats blank values as unset', () => {
    const c = loadConfig({ MQTT_PORT: '0', HTTP_PORT: '9090', INGEST_MAX_FUTURE_MS: '1000', FLEET_FILE: '  ', INFLUX_URL: '' });
    expect(c).toMatchObject({ MQTT_PORT: 0, HTTP_PORT: 9090, INGEST_MAX_FUTURE_MS: 1000, FLEET_FILE: undefined, INFLUX_URL: undefined });
  });

  it('reports every problem at once, each naming its variable', () => {
    const p = problems({ MQTT_PORT: '70000', HTTP_PORT: 'http', INGEST_MAX_AGE_MS: '-5', LOG_LEVEL: 'loud', INFLUX_URL: 'ftp://x', REJECTED_KEEP: '1.5' });
    expect(p).toHaveLength(6);
    for (const name of ['MQTT_PORT', 'HTTP_PORT', 'INGEST_MAX_AGE_MS', 'LOG_LEVEL', 'INFLUX_URL', 'REJECTED_KEEP']) {
      expect(p.some((line) => line.startsWith(`${name}: `)), name).toBe(true);
    }
  });

  it('the error message lists the problems and points to the docs', () => {
    try {
      loadConfig({ HTTP_PORT: 'x' });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/1 problem\(s\):\n {2}- HTTP_PORT: .*\nSee README.md/);
    }
  });

  it('asks for INFLUX_TOKEN with INFLUX_URL, and refuses broker credentials without a broker URL', () => {
    const p = problems({ INFLUX_URL: 'http://127.0.0.1:8086', MQTT_BROKER_USERNAME: 'u' });
    expect(p).toEqual([
      'INFLUX_TOKEN: required when INFLUX_URL is set (use any non-empty value for an InfluxDB 1.x without auth)',
      'MQTT_BROKER_USERNAME/PASSWORD: only used with MQTT_BROKER_URL, which is not set',
    ]);
  });

  it('ignores variables it does not know', () => {
    expect(() => loadConfig({ PATH: '/bin', SOMETHING_ELSE: '1' })).not.toThrow();
  });

  it('lets overrides win over the environment', () => {
    expect(loadConfig({ HTTP_PORT: '1' }, { HTTP_PORT: 2 }).HTTP_PORT).toBe(2);
  });

  it('names the instance after the host by default and takes a group and instance id for scale-out', () => {
    const d = loadConfig({});
    expect(d.MQTT_SHARE_GROUP).toBe('precall');
    expect(d.MQTT_SESSION_EXPIRY_SECONDS).toBe(86_400);
    expect(d.PRECALL_INSTANCE_ID).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    const c = loadConfig({ MQTT_SHARE_GROUP: 'yanshan', PRECALL_INSTANCE_ID: 'precall-2', MQTT_SESSION_EXPIRY_SECONDS: '600' });
    expect([c.MQTT_SHARE_GROUP, c.PRECALL_INSTANCE_ID, c.MQTT_SESSION_EXPIRY_SECONDS]).toEqual(['yanshan', 'precall-2', 600]);
  });

  it('refuses a group name that would break the $share topic filter, and an instance id unfit for a client id', () => {
    expect(problems({ MQTT_SHARE_GROUP: 'a/b', PRECALL_INSTANCE_ID: 'two words' })).toEqual([
      'MQTT_SHARE_GROUP: a shared-subscription group name may not contain "/", "+" or "#"',
      'PRECALL_INSTANCE_ID: use 1 to 64 letters, digits, ".", "_" or "-"',
    ]);
  });
});

describe('README.md documents every variable', () => {
  const readme = resolve(import.meta.dirname, '../../README.md');
  it.each(Object.keys(EnvSchema.shape))('%s appears in the Configuration section', (name) => {
    expect(existsSync(readme), 'README.md is missing').toBe(true);
    const text = readFileSync(readme, 'utf8');
    const start = text.search(/^#+ .*Configuration/m);
    expect(start, 'README.md has no Configuration heading').toBeGreaterThanOrEqual(0);
    expect(text.slice(start)).toContain(`\`${name}\``);
  });
});

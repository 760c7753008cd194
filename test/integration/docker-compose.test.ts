/**
 * docker-compose.yml validates with a real docker-compose (Debian's 1.29 validates a file without
 * a Docker engine), and what it wires matches the repository: mounted paths exist, precall's
 * environment uses only variables src/config.ts knows, Grafana gets what the provisioning reads.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import mqtt, { type MqttClient } from 'mqtt';
import { EnvSchema } from '../../src/config.js';
import { generateFleet } from '../../src/registry/generate-fleet.js';
import { startMosquitto, type MosquittoServer } from '../support/mosquitto-server.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: ({ type: string; source: string; target: string } | string)[];
  depends_on?: Record<string, { condition: string }>;
  profiles?: string[];
  entrypoint?: string[];
}

let config: { services: Record<string, Service>; volumes?: Record<string, unknown> };
// The secrets a user generates once with scripts/compose-secrets.mjs (the file has no defaults).
const secretsDir = mkdtempSync(join(tmpdir(), 'compose-secrets-'));
const envFile = join(secretsDir, '.env');
afterAll(() => rmSync(secretsDir, { recursive: true, force: true }));

async function compose(...args: string[]) {
  // A clean environment: the file's own defaults plus the generated secrets must be enough.
  return run('docker-compose', ['-f', 'docker-compose.yml', '--env-file', envFile, ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } });
}

beforeAll(async () => {
  try {
    await run('docker-compose', ['version']);
  } catch (err) {
    throw new Error(`docker-compose is not installed or does not run (${(err as Error).message}); install Debian's docker-compose package (apt-get install docker-compose)`);
  }
  await run(process.execPath, [`${ROOT}scripts/compose-secrets.mjs`, envFile]);
  const { stdout } = await compose('config');
  config = parse(stdout) as typeof config;
});

function mounts(s: Service): { source: string; target: string }[] {
  return (s.volumes ?? []).map((v) => {
    if (typeof v !== 'string') return v;
    const [source = '', target = ''] = v.split(':');
    return { source, target };
  });
}

describe('docker-compose.yml', () => {
  it('has no fallback secrets: without them it refuses to start and says what to run', async () => {
    const err = await run('docker-compose', ['-f', 'docker-compose.yml', 'config', '--quiet'], { cwd: ROOT, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).not.toBe(0);
    expect((err as { stderr: string }).stderr).toMatch(/run node scripts\/compose-secrets\.mjs first \((INFLUX_TOKEN|INFLUX_ADMIN_PASSWORD|API_ADMIN_KEY|GRAFANA_ADMIN_PASSWORD) is not set\)/);
    expect(readFileSync(`${ROOT}docker-compose.yml`, 'utf8')).not.toMatch(/change-me|(TOKEN|PASSWORD|KEY):-/);
  });

  it('gets random secrets from scripts/compose-secrets.mjs, in a file only its owner reads, kept on a second run', async () => {
    const first = readFileSync(envFile, 'utf8');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    for (const name of ['INFLUX_TOKEN', 'INFLUX_ADMIN_PASSWORD', 'API_ADMIN_KEY', 'GRAFANA_ADMIN_PASSWORD', 'MQTT_BROKER_PASSWORD', 'POSTGRES_PASSWORD']) expect(first).toMatch(new RegExp(`^${name}=[A-Za-z0-9_-]{32}$`, 'm'));
    await run(process.execPath, [`${ROOT}scripts/compose-secrets.mjs`, envFile]);
    expect(readFileSync(envFile, 'utf8')).toBe(first);
    const key = /^API_ADMIN_KEY=(.*)$/m.exec(first)![1]!;
    expect(config.services.precall!.environment!.API_ADMIN_KEY).toBe(key);
    expect(config.services.simulate!.command).toContain(key);
  });

  it('publishes the API, InfluxDB and Grafana on 127.0.0.1 only, MQTT on every interface', () => {
    // `docker-compose config` prints a port either as "ip:published:target/proto" or as an object.
    const hostPort = (p: { published: number | string; host_ip?: string } | string) => {
      if (typeof p !== 'string') return `${p.host_ip ?? ''}:${p.published}`;
      const parts = p.split('/')[0]!.split(':');
      return parts.length === 3 ? `${parts[0]}:${parts[1]}` : `:${parts[0]}`;
    };
    const ports = (s: string) => ((config.services[s] as { ports?: ({ published: number | string; host_ip?: string } | string)[] }).ports ?? []).map(hostPort);
    expect(ports('precall').sort()).toEqual([':1883', '127.0.0.1:8080'].sort());
    expect(ports('influxdb')).toEqual(['127.0.0.1:8086']);
    expect(ports('grafana')).toEqual(['127.0.0.1:3000']);
  });

  it('is accepted by `docker-compose config` (quiet mode exits 0 with nothing on stderr)', async () => {
    const { stderr } = await compose('config', '--quiet');
    expect(stderr).toBe('');
  });

  it('has InfluxDB 2.x, Grafana, precall serve, the fleet init and the simulator by default, the rest in profile scale', () => {
    const byDefault = Object.entries(config.services).filter(([, s]) => s.profiles === undefined).map(([name]) => name);
    expect(byDefault.sort()).toEqual(['fleet', 'grafana', 'influxdb', 'precall', 'simulate']);
    expect(config.services.influxdb!.image).toMatch(/^influxdb:2\./);
    expect(config.services.precall!.command).toEqual(['serve']);
    expect(config.services.simulate!.command?.[0]).toBe('simulate');
  });

  it('initialises InfluxDB with org, bucket and token, and mounts the DBRP init script', () => {
    const env = config.services.influxdb!.environment!;
    for (const key of ['DOCKER_INFLUXDB_INIT_MODE', 'DOCKER_INFLUXDB_INIT_ORG', 'DOCKER_INFLUXDB_INIT_BUCKET', 'DOCKER_INFLUXDB_INIT_ADMIN_TOKEN']) expect(env[key], key).toBeTruthy();
    const init = mounts(config.services.influxdb!).find((m) => m.target === '/docker-entrypoint-initdb.d');
    expect(init).toBeDefined();
    const script = `${init!.source}/10-dbrp.sh`;
    expect(existsSync(script)).toBe(true);
    accessSync(script, constants.X_OK);
    expect(readFileSync(script, 'utf8')).toContain('influx v1 dbrp create');
  });

  it('gives precall only variables src/config.ts knows, pointing at the compose InfluxDB with its token', () => {
    const env = config.services.precall!.environment!;
    const known = new Set(Object.keys(EnvSchema.shape));
    for (const key of Object.keys(env)) expect(known.has(key), `${key} is not a precall setting`).toBe(true);
    expect(env.INFLUX_URL).toBe('http://influxdb:8086');
    expect(env.INFLUX_TOKEN).toBe(config.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    expect(env.INFLUX_BUCKET).toBe(config.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_BUCKET);
    expect(EnvSchema.safeParse(env).success).toBe(true);
  });

  it('mounts the Grafana provisioning and the built dashboards from paths that exist', () => {
    const grafana = config.services.grafana!;
    const m = mounts(grafana);
    for (const target of ['/etc/grafana/provisioning/datasources', '/etc/grafana/provisioning/dashboards', '/var/lib/grafana/dashboards/precall']) {
      const mount = m.find((x) => x.target === target);
      expect(mount, target).toBeDefined();
      expect(existsSync(mount!.source), mount!.source).toBe(true);
    }
    // The data source provisioning reads these from Grafana's environment.
    const ds = readFileSync(`${ROOT}dashboards/provisioning/datasources/influxdb.yaml`, 'utf8');
    for (const name of [...ds.matchAll(/\$\{(\w+)\}/g)].map((x) => x[1]!)) expect(grafana.environment?.[name], name).toBeTruthy();
    expect(existsSync(`${ROOT}dashboards/build/${grafana.environment!.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!.split('/').pop()}`)).toBe(true);
  });

  it('starts precall after InfluxDB is healthy and the fleet is written, and shares the fleet volume', () => {
    expect(config.services.precall!.depends_on).toEqual({ influxdb: { condition: 'service_healthy' }, fleet: { condition: 'service_completed_successfully' } });
    const fleetTarget = mounts(config.services.fleet!).find((x) => x.source === 'fleet');
    expect(fleetTarget?.target).toBe('/fleet');
    expect(config.services.precall!.environment!.FLEET_FILE?.startsWith('/fleet/')).toBe(true);
    expect(mounts(config.services.simulate!).some((x) => x.source === 'fleet' && x.target === '/fleet')).toBe(true);
  });

  it('runs a scenario file that exists in the repository', () => {
    const cmd = config.services.simulate!.command!;
    const scenario = cmd[cmd.indexOf('--scenario') + 1];
    expect(scenario).toBeDefined();
    expect(existsSync(ROOT + scenario), scenario).toBe(true);
  });
});

describe('docker-compose.yml, profile scale', () => {
  const SCALE = ['mosquitto-users', 'mosquitto', 'postgres', 'precall-1', 'precall-2', 'precall-3', 'simulate-scale'];
  const instances = () => ['precall-1', 'precall-2', 'precall-3'].map((n) => config.services[n]!);

  it('has Mosquitto, PostgreSQL, three precall instances and a simulator, only in the profile', () => {
    for (const name of SCALE) expect(config.services[name]?.profiles, name).toEqual(['scale']);
    expect(config.services.mosquitto!.image).toMatch(/^eclipse-mosquitto:2/);
    expect(config.services.postgres!.image).toMatch(/^postgres:15/);
    expect(config.services['simulate-scale']!.command).toContain('mqtt://mosquitto:1883');
  });

  it('gives the instances valid settings: one group, one database, one broker user; each its own name, DATA_DIR volume and port', () => {
    const known = new Set(Object.keys(EnvSchema.shape));
    const envs = instances().map((s) => s.environment!);
    for (const env of envs) {
      for (const key of Object.keys(env)) expect(known.has(key), `${key} is not a precall setting`).toBe(true);
      expect(EnvSchema.safeParse(env).success).toBe(true);
      expect(env.MQTT_BROKER_URL).toBe('mqtt://mosquitto:1883');
      expect(env.MQTT_BROKER_USERNAME).toBe('precall');
      expect(env.MQTT_BROKER_PASSWORD).toBe(config.services['mosquitto-users']!.environment!.MQTT_BROKER_PASSWORD);
      expect(env.MQTT_SHARE_GROUP).toBe(envs[0]!.MQTT_SHARE_GROUP);
      expect(env.DATABASE_URL).toBe(envs[0]!.DATABASE_URL);
      expect(env.INFLUX_TOKEN).toBe(config.services.influxdb!.environment!.DOCKER_INFLUXDB_INIT_ADMIN_TOKEN);
    }
    const pg = config.services.postgres!.environment!;
    expect(new URL(envs[0]!.DATABASE_URL!)).toMatchObject({ hostname: 'postgres', username: pg.POSTGRES_USER, password: pg.POSTGRES_PASSWORD, pathname: `/${pg.POSTGRES_DB}` });
    expect(new Set(envs.map((e) => e.PRECALL_INSTANCE_ID)).size).toBe(3);
    const dataVolumes = instances().map((s) => mounts(s).find((m) => m.target === '/data')?.source);
    expect(new Set(dataVolumes).size).toBe(3);
    for (const v of dataVolumes) expect(config.volumes).toHaveProperty(v!);
  });

  it("mounts Mosquitto's config and ACL from paths that exist, and the image carries the password-file script", () => {
    for (const m of mounts(config.services.mosquitto!).filter((x) => x.source.startsWith('/'))) expect(existsSync(m.source), m.source).toBe(true);
    const script = config.services['mosquitto-users']!.entrypoint![1]!;
    expect(existsSync(ROOT + script), script).toBe(true);
    expect(readFileSync(`${ROOT}Dockerfile`, 'utf8')).toContain(`COPY ${script} ./${script}`);
  });

  it("the broker's password file and ACL, on a real Mosquitto 2: devices publish only under their own id, precall reads every device through the shared subscription, a wrong password is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'compose-mosquitto-'));
    let broker: MosquittoServer | undefined;
    const clients: MqttClient[] = [];
    try {
      const { credentials } = generateFleet({ devices: 4, seed: 2 });
      writeFileSync(join(dir, 'credentials.json'), JSON.stringify(credentials));
      const passwd = join(dir, 'passwd');
      const made = await run(process.execPath, [`${ROOT}scripts/compose/mosquitto-passwd.mjs`, join(dir, 'credentials.json'), passwd], { env: { PATH: process.env.PATH ?? '', MQTT_BROKER_PASSWORD: 'precall-broker-password' } });
      expect(made.stdout).toContain(`${1 + credentials.devices.length + credentials.operators.length} users`);
      await run('mosquitto_passwd', ['-U', passwd]);
      broker = await startMosquitto({ auth: { passwordFile: passwd, aclFile: `${ROOT}scripts/compose/mosquitto.acl` }, extraConfig: ['user root'] });
      const connect = async (username: string, password: string) => {
        const c = await mqtt.connectAsync(broker!.url, { username, password, protocolVersion: 5, reconnectPeriod: 0, clientId: `${username}-${clients.length}` });
        clients.push(c);
        return c;
      };
      const group = config.services['precall-1']!.environment!.MQTT_SHARE_GROUP!;
      const precall = await connect('precall', 'precall-broker-password');
      const got: string[] = [];
      precall.on('message', (topic) => got.push(topic));
      await precall.subscribeAsync(`$share/${group}/devices/+/+`, { qos: 1 });
      const [a, b] = credentials.devices as [(typeof credentials.devices)[0], (typeof credentials.devices)[0]];
      const device = await connect(a.id, a.secret);
      await device.publishAsync(`devices/${a.id}/telemetry`, '{"ts":1,"seq":1}', { qos: 1 });
      await device.publishAsync(`devices/${b.id}/telemetry`, '{"ts":1,"seq":2}', { qos: 1 }).catch(() => undefined);
      await device.publishAsync(`devices/${a.id}/events`, '{"ts":1,"seq":3}', { qos: 1 });
      const until = Date.now() + 5000;
      while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 300));
      expect(got.sort()).toEqual([`devices/${a.id}/events`, `devices/${a.id}/telemetry`]);
      await expect(mqtt.connectAsync(broker.url, { username: a.id, password: 'not-the-secret', protocolVersion: 5, reconnectPeriod: 0 })).rejects.toThrow(/Bad User Name or Password|Not authorized/);
    } finally {
      for (const c of clients) await c.endAsync(true);
      await broker?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

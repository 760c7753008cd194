/**
 * `precall serve` scaled out as docs/scale-out.md describes, for the scale-* integration tests:
 * instances in one MQTT 5 shared-subscription group on an external broker, all writing to one
 * InfluxDB and, when given, sharing one DATABASE_URL. Each has its own DATA_DIR (`dir/NAME`),
 * so that a restart under the same name finds its outbox again.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseParts } from '../../src/cluster/partition.js';
import type { InfluxConnection } from './influx-server.js';
import { childEnv, isAlive, startServe, stopServes, type ServeProcess } from './precall-process.js';

export interface ScaleOptions {
  brokerUrl: string;
  /** MQTT_SHARE_GROUP. */
  group: string;
  /** PRECALL_INSTANCE_ID is this followed by the instance's name. */
  idPrefix: string;
  /** Holds fleet.yaml (the FLEET_FILE, written by the test) and one data dir per instance. */
  dir: string;
  influx: InfluxConnection;
  /** Without it the instances run without PostgreSQL, whatever this process's environment says. */
  databaseUrl?: string;
  /** More variables for every instance (partitions, leases, rules file, API key); they win. */
  env?: Record<string, string | undefined>;
}

export class ScaleInstances {
  /** By name, the latest start of each, in the order of first start. */
  private readonly byName = new Map<string, ServeProcess>();

  constructor(private readonly opts: ScaleOptions) {}

  /** The environment instance `name` runs with (on loopback, see childEnv). */
  env(name: string): NodeJS.ProcessEnv {
    const { brokerUrl, group, idPrefix, dir, influx, databaseUrl, env } = this.opts;
    return childEnv({
      MQTT_BROKER_URL: brokerUrl,
      MQTT_SHARE_GROUP: group,
      PRECALL_INSTANCE_ID: `${idPrefix}${name}`,
      DATA_DIR: join(dir, name),
      FLEET_FILE: join(dir, 'fleet.yaml'),
      INFLUX_URL: influx.url,
      INFLUX_TOKEN: influx.token,
      INFLUX_ORG: influx.org,
      INFLUX_BUCKET: influx.bucket,
      DATABASE_URL: databaseUrl,
      // startServe reads the HTTP port from the info-level "precall started" line.
      LOG_LEVEL: 'info',
      ...env,
    });
  }

  /** Starts (or starts again) instance `name` and waits until it has started. */
  async start(name: string): Promise<ServeProcess> {
    mkdirSync(join(this.opts.dir, name), { recursive: true });
    const instance = await startServe(name, this.env(name));
    this.byName.set(name, instance);
    return instance;
  }

  get(name: string): ServeProcess {
    const instance = this.byName.get(name);
    if (instance === undefined) throw new Error(`no instance ${name} was started`);
    return instance;
  }

  all(): ServeProcess[] {
    return [...this.byName.values()];
  }

  alive(): ServeProcess[] {
    return this.all().filter(isAlive);
  }

  /**
   * The partitions each live instance holds, from its /health. An instance that does not answer
   * fails the call, or is left out with `skipSilent`.
   */
  async ownership(opts: { skipSilent?: boolean } = {}): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const i of this.alive()) {
      const res = await fetch(`http://127.0.0.1:${i.port}/health`).catch((err: unknown) => {
        if (opts.skipSilent === true) return undefined;
        throw err;
      });
      if (res === undefined) continue;
      const health = (await res.json()) as { components: { name: string; details?: Record<string, unknown> }[] };
      const parts = health.components.find((c) => c.name === 'partitions')?.details?.parts;
      out.set(i.name, parseParts(String(parts ?? '')) ?? []);
    }
    return out;
  }

  /** The live instance holding partition `part`, if any. */
  async ownerOf(part: number, opts: { skipSilent?: boolean } = {}): Promise<string | undefined> {
    for (const [name, parts] of await this.ownership(opts)) if (parts.includes(part)) return name;
    return undefined;
  }

  /** Stops every instance still running (see stopServes). */
  stop(): Promise<void> {
    return stopServes(this.byName.values());
  }
}

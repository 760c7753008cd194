/**
 * MQTT.js clients logging in to a test broker as fleet accounts (devices, operators): MQTT 3.1.1,
 * the account's secret from the test fleet, its username as client id, no automatic reconnect.
 * Every client made is kept, so one `endAll()` in teardown closes them.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { TestFleet } from './fleet.js';

export class MqttLogins {
  readonly clients: MqttClient[] = [];

  /** Either may be a function, for a fleet or broker made after this object. */
  constructor(
    private readonly fleet: Pick<TestFleet, 'secretOf'> | (() => Pick<TestFleet, 'secretOf'>),
    private readonly port: number | (() => number),
  ) {}

  private portNow(): number {
    return typeof this.port === 'function' ? this.port() : this.port;
  }

  options(username: string, extra: IClientOptions = {}): IClientOptions {
    return {
      host: '127.0.0.1',
      port: this.portNow(),
      protocolVersion: 4,
      username,
      password: (typeof this.fleet === 'function' ? this.fleet() : this.fleet).secretOf(username),
      clientId: username,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...extra,
    };
  }

  /** A connected client logged in as `username`. */
  async login(username: string, extra: IClientOptions = {}): Promise<MqttClient> {
    return this.keep(await mqtt.connectAsync(this.options(username, extra)));
  }

  /** Connect expecting a refusal; resolves with the CONNACK return code (-1 without one). */
  refusedCode(opts: IClientOptions): Promise<number> {
    return new Promise((resolve, reject) => {
      const c = this.keep(mqtt.connect({ host: '127.0.0.1', port: this.portNow(), protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts }));
      c.once('connect', () => reject(new Error('connection was accepted')));
      c.once('error', (err) => resolve((err as Error & { code?: number }).code ?? -1));
    });
  }

  /** A client made elsewhere, closed by endAll() too. */
  keep(c: MqttClient): MqttClient {
    this.clients.push(c);
    return c;
  }

  /** Close every client (forced), errors ignored. */
  async endAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.endAsync(true).catch(() => undefined)));
  }
}

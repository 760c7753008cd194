/**
 * Live connections per device, to enforce MQTT_MAX_CONNECTIONS_PER_DEVICE and to know when a
 * device goes online (first connection) and offline (last one gone). A slot is taken when the
 * credentials check out, before CONNACK, so two simultaneous connects cannot both slip under
 * the limit.
 */

export type AdmitResult = 'admitted' | 'takeover' | 'limit-reached';

export class ConnectionTracker<C extends object> {
  private readonly byDevice = new Map<string, Map<C, string>>();

  /**
   * Take a slot for `conn` of `deviceId` using `clientId`. A connection reusing the client id
   * of a live one is a session takeover [MQTT-3.1.4-2]: admitted whatever the limit, since the
   * broker closes the old connection.
   */
  admit(deviceId: string, conn: C, clientId: string, limit: number): AdmitResult {
    let conns = this.byDevice.get(deviceId);
    if (conns === undefined) {
      conns = new Map();
      this.byDevice.set(deviceId, conns);
    }
    const takeover = clientId !== '' && [...conns.values()].includes(clientId);
    if (!takeover && conns.size >= limit) {
      if (conns.size === 0) this.byDevice.delete(deviceId);
      return 'limit-reached';
    }
    conns.set(conn, clientId);
    return takeover ? 'takeover' : 'admitted';
  }

  /** Release `conn`'s slot; returns how many connections the device still has. */
  release(deviceId: string, conn: C): number {
    const conns = this.byDevice.get(deviceId);
    if (conns === undefined) return 0;
    conns.delete(conn);
    if (conns.size === 0) this.byDevice.delete(deviceId);
    return conns.size;
  }

  /** Connections of `deviceId`, not counting `except`. */
  count(deviceId: string, except?: C): number {
    const conns = this.byDevice.get(deviceId);
    if (conns === undefined) return 0;
    return conns.size - (except !== undefined && conns.has(except) ? 1 : 0);
  }

  /** Devices with at least one connection. */
  get devices(): number {
    return this.byDevice.size;
  }
}

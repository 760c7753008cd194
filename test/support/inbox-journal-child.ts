/**
 * Child process for the forwarder's crash test: an outbox in DATA_DIR (argv[2]) whose readings
 * carry their partition-inbox entry, and a forwarder sending them to the PostgreSQL at argv[3].
 * Appends readings as fast as it can and reports on stdout the highest seq whose `done` (the
 * PUBACK moment) has run, as `acked N` lines, and how many entries the forwarder sent, as
 * `forwarded N`, until it is killed.
 */
import { InboxForwarder } from '../../src/cluster/inbox-forwarder.js';
import { Outbox } from '../../src/storage/outbox.js';
import { heatReading } from './readings.js';

const [dataDir, url] = process.argv.slice(2);
if (dataDir === undefined || url === undefined) throw new Error('usage: inbox-journal-child.ts DATA_DIR DATABASE_URL');
const quiet = { info() {}, warn() {} };
const outbox = new Outbox({ dataDir });
outbox.forwardWith((r) => ({ part: 0, device: r.deviceId, ts: r.time, seq: (r.payload as { seq: number }).seq, kind: 'reading', body: '{}' }));
const forwarder = new InboxForwarder({ url, timeoutMs: 5000, log: quiet, journal: outbox });
forwarder.start();
let next = 0;
let acked = -1;
let reported = -1;
let reportedForwarded = -1;
const t0 = Date.now() - 3_600_000;

function pump(): void {
  for (let i = 0; i < 200; i++, next++) {
    const seq = next;
    outbox.append(heatReading(`fwd-${seq % 50}`, t0 + seq, seq), (err) => {
      if (err === undefined && seq > acked) acked = seq;
    });
  }
  if (acked > reported) {
    reported = acked;
    process.stdout.write(`acked ${acked}\n`);
  }
  const sent = forwarder.status().forwarded;
  if (sent > reportedForwarded) {
    reportedForwarded = sent;
    process.stdout.write(`forwarded ${sent}\n`);
  }
  setImmediate(pump);
}
pump();

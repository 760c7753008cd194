/**
 * Child process for the crash test: appends readings to an outbox in DATA_DIR (argv[2]) as fast
 * as it can and reports on stdout the highest seq whose `done` (the PUBACK moment) has run,
 * as `acked N` lines, until it is killed or has appended argv[3] readings.
 */
import { Outbox } from '../../src/storage/outbox.js';
import { heatReading } from './readings.js';

const dataDir = process.argv[2];
const limit = Number(process.argv[3] ?? 200_000);
if (dataDir === undefined) throw new Error('usage: outbox-child.ts DATA_DIR [COUNT]');
const outbox = new Outbox({ dataDir });
let next = 0;
let acked = -1;
let reported = -1;
const t0 = Date.now() - 3_600_000;

function pump(): void {
  for (let i = 0; i < 500 && next < limit; i++, next++) {
    const seq = next;
    outbox.append(heatReading(`crash-${seq % 100}`, t0 + seq, seq), (err) => {
      if (err === undefined && seq > acked) acked = seq;
    });
  }
  // Report after the callbacks of the commit that just ran, before appending more.
  if (acked > reported) {
    reported = acked;
    process.stdout.write(`acked ${acked}\n`);
  }
  if (next < limit) setImmediate(pump);
}
pump();

/**
 * `npm run bench`: every benchmark in turn, each in its own process so one's memory and JIT state
 * do not colour the next. Each prints its own figures and ratios against its in-run baseline.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const benches: { name: string; args: string[] }[] = [
  { name: 'ingest (precall vs bare aedes + influxdb-client)', args: ['--import', 'tsx', join(import.meta.dirname, 'ingest.ts')] },
  { name: 'rules (default rule set, one core; memory per device)', args: ['--expose-gc', '--import', 'tsx', join(import.meta.dirname, 'rules.ts')] },
  { name: 'simulator (10,000 devices, one process)', args: ['--import', 'tsx', join(import.meta.dirname, 'simulator.ts')] },
  { name: 'console (board with 5,000 open orders; order opened → on screen), Debian chromium', args: ['--import', 'tsx', join(import.meta.dirname, 'console.ts')] },
];

let failed = 0;
for (const b of benches) {
  console.log(`\n=== ${b.name} ===`);
  const r = spawnSync(process.execPath, b.args, { stdio: 'inherit' });
  if (r.status !== 0) {
    failed += 1;
    console.log(`(${b.name} exited with ${r.status ?? r.signal})`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;

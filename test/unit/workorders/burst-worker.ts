/** Child process for the concurrent-dedup test: one precall-like writer feeding identical signals. */
import { createWorkOrders } from '../../../src/workorders/component.js';
import { signal, testRegistry } from './fixtures.js';

const file = process.argv[2]!;
const n = Number(process.argv[3]);
const wo = createWorkOrders({ dbPath: file, registry: testRegistry() });
let applied = 0;
for (let i = 0; i < n; i++) if (wo.onSignal(signal()) !== undefined) applied++;
await wo.stop();
process.send!(applied);

/** Child process for the concurrent-dedup test: one precall-like writer feeding identical signals. */
import { createWorkOrders, type WorkOrdersOptions } from '../../../src/workorders/component.js';
import { signal, testRegistry } from './fixtures.js';

/** The store's location (a SQLite file or a PostgreSQL URL), as JSON. */
const where = JSON.parse(process.argv[2]!) as Pick<WorkOrdersOptions, 'dbPath' | 'database'>;
const n = Number(process.argv[3]);
const wo = createWorkOrders({ ...where, registry: testRegistry() });
let applied = 0;
for (let i = 0; i < n; i++) if (wo.onSignal(signal()) !== undefined) applied++;
await wo.stop();
process.send!(applied);

// Entry of the PostgreSQL bridge's worker thread. A worker does not inherit the TypeScript loader
// of its parent (tsx registers it on the main thread), and Node 20 cannot start a worker from a
// .ts file even with `--import tsx`: this plain module registers tsx in the worker, then loads it.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');

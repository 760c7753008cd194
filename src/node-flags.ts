/**
 * The Node.js flags precall runs with. `bin/precall.js` (its shebang), `npm start` and the
 * Dockerfile's ENTRYPOINT cannot import this, so test/unit/node-flags.test.ts checks that each of
 * them gives the same; the bench and the tests that start `precall serve` use it directly.
 *
 * --max-semi-space-size=64 (MiB; Node's default is 16): every reading allocates short-lived
 * objects (payload, reading, line protocol, rule inputs), and a larger young generation collects
 * them in fewer scavenges. In `npm run bench`, load (a), interleaved runs before and after:
 * server CPU per reading 137/138/126 → 134/126/119 µs, accepted readings/s +12 %, peak RSS within
 * the runs' spread.
 */
export const NODE_FLAGS = ['--max-semi-space-size=64'] as const;

/**
 * precall as `precall serve` composes it (createPrecall + operations, configuration from the
 * environment), for the hand-over crash test, plus one thing: KILL_AT names the moment it SIGKILLs
 * itself, once.
 *   - `signal`: the rule engine announces a raised signal. The rule state and the queued signal
 *     are committed; work orders have not seen the signal.
 *   - `order`: work orders announce an opened order. The order, its delivery rows and the
 *     signal's reference are committed; rules have not heard back, nothing has been sent.
 * Prints `ready <http port> <mqtt port>` once started; stops cleanly on SIGTERM.
 */
import { createPrecall } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { operations } from '../../src/operations.js';

const killAt = process.env.KILL_AT;
const die = () => process.kill(process.pid, 'SIGKILL');

const precall = await createPrecall(loadConfig(process.env), {
  processMetrics: false,
  extend: operations({
    watchRules: false,
    onReady: (ops) => {
      if (killAt === 'signal') ops.rules.subscribe((s) => s.state === 'raised' && die());
      if (killAt === 'order') ops.workOrders.onEvent((e) => e.type === 'opened' && die());
    },
  }),
});
const addr = await precall.start();
process.stdout.write(`ready ${addr.http.port} ${addr.mqtt!.port}\n`);
process.once('SIGTERM', () => {
  void precall.stop().then(() => process.exit(0));
});

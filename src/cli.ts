/**
 * The `precall` command. Subcommands: serve, simulate, demo, fleet, rules check, users, keys, cluster.
 * Each subcommand lives in its own module and is loaded on demand.
 */
const [command, ...args] = process.argv.slice(2);

const commands: Record<string, () => Promise<{ main(args: string[]): Promise<number> }>> = {
  serve: () => import('./commands/serve.js'),
  fleet: () => import('./commands/fleet.js'),
  simulate: () => import('../simulator/cli.js'),
  demo: () => import('./commands/demo.js'),
  rules: () => import('./commands/rules.js'),
  users: () => import('./commands/users.js'),
  keys: () => import('./commands/keys.js'),
  cluster: () => import('./commands/cluster.js'),
};

function usage(): string {
  return [
    'usage: precall <command> [options]',
    '',
    '  serve                 run the backend (embedded MQTT broker, ingest, rules, work orders, HTTP API)',
    '  simulate              run simulated devices against a broker',
    '  demo                  backend + simulated district with scripted faults, printing work orders',
    '  fleet                 generate a fleet file and device credentials',
    '  rules check FILE      validate a rules file without starting anything',
    '  cluster URL...        the instances of a scale-out deployment: ids, group, share, backlog, health',
    '',
    'Run `precall <command> --help` for its options. Configuration comes from the environment: see README.md.',
  ].join('\n');
}

async function run(): Promise<number> {
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    console.log(usage());
    return command === undefined ? 2 : 0;
  }
  const load = commands[command];
  if (load === undefined) {
    console.error(`precall: unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  const mod = await load();
  return mod.main(args);
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
  },
);

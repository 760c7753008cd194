/**
 * Options of a `precall` subcommand, parsed with node's `util.parseArgs` the same way everywhere:
 * `--help`/`-h` prints the usage (exit 0), an unknown or malformed option prints the problem and
 * the usage (exit 2). Returns the parsed values, or the exit code when the command should stop.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<const O extends Options>(command: string, usage: string, args: string[], options: O) {
  let values;
  try {
    ({ values } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    console.error(`precall ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((values as { help?: unknown }).help === true) {
    console.log(usage);
    return 0;
  }
  return values;
}

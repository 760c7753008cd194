/**
 * Options of a `precall` subcommand, parsed with node's `util.parseArgs` the same way everywhere:
 * `--help`/`-h` prints the usage (exit 0), an unknown or malformed option prints the problem and
 * the usage (exit 2). Returns the parsed values, or the exit code when the command should stop.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandArgs<const O extends Options>(command: string, usage: string, args: string[], options: O) {
  const r = parseCommandLine(command, usage, args, options, 0);
  return typeof r === 'number' ? r : r.values;
}

/** The same, for commands that take up to `maxPositionals` plain arguments (`users add NAME`). */
export function parseCommandLine<const O extends Options>(command: string, usage: string, args: string[], options: O, maxPositionals: number) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: maxPositionals > 0 });
  } catch (err) {
    console.error(`precall ${command}: ${(err as Error).message}\n\n${usage}`);
    return 2;
  }
  if ((parsed.values as { help?: unknown }).help === true) {
    console.log(usage);
    return 0;
  }
  if (parsed.positionals.length > maxPositionals) {
    console.error(`precall ${command}: unexpected argument "${parsed.positionals[maxPositionals]}"\n\n${usage}`);
    return 2;
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

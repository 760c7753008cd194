/**
 * Reading the files an operator writes (fleet, rules, work-order settings, API keys, scenarios,
 * credentials): the text, then YAML (JSON is YAML), each failure as a problem in words and thrown
 * as the file's own error class, `new E(file, problems)`, which lists every problem.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';

export type FileErrorClass = new (file: string, problems: string[]) => Error;

/** The file's text, or `E(file, ["cannot read it: …"])`. */
export function readTextFile(path: string, E: FileErrorClass, name: string = path): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new E(name, [`cannot read it: ${(err as Error).message}`]);
  }
}

/** The YAML document of `text`, or `E(file, ["not valid YAML: …"])`. */
export function parseYamlText(text: string, file: string, E: FileErrorClass): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new E(file, [`not valid YAML: ${(err as Error).message}`]);
  }
}

/** readTextFile, then parseYamlText. */
export function readYamlFile(path: string, E: FileErrorClass): unknown {
  return parseYamlText(readTextFile(path, E), path, E);
}

/**
 * `precall rules check FILE`: validate a rules file without starting anything. FILE is either a
 * defaults file (`devices/<kind>/rules.yaml`: has `kind` and `rules`) or an operator override
 * file (RULES_FILE: has `overrides`), checked against the shipped defaults. Exit 0 when valid, 1
 * when not (every problem listed with file, rule and field), 2 on usage errors.
 */
import { parse as parseYaml } from 'yaml';
import { familyMap, loadDefaultRules, parseOverrideFile, parseRulesFile, RulesFileError } from '../rules/load.js';
import type { Rule } from '../rules/schema.js';
import { readTextFile } from '../files/read-file.js';

const USAGE =
  'usage: precall rules check FILE\n\n  Validates a default rules file (devices/<kind>/rules.yaml) or an override file (RULES_FILE)\n  and prints which rules diagnose each problem family.';

/** `  socket-overheat @ port: charger-port-overtemp, charger-port-hot` (plus what explains them). */
function familyLines(rules: Rule[]): string[] {
  return [...familyMap(rules)].map(([family, rs]) => {
    // A grouped rule also speaks for its building or substation.
    const assets = [...new Set(rs.flatMap((r) => [r.asset, ...(r.building !== undefined ? [r.building.by] : [])]))].join('|');
    const explained = [...new Set(rs.flatMap((r) => r.explainedBy ?? []))];
    return `  ${family} @ ${assets}: ${rs.map((r) => r.id).join(', ')}${explained.length > 0 ? `  (explained by ${explained.join(', ')})` : ''}`;
  });
}

export async function main(args: string[]): Promise<number> {
  const [sub, file, ...rest] = args;
  if (sub === '--help' || sub === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (sub !== 'check' || file === undefined || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  try {
    const text = readTextFile(file, RulesFileError);
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch {
      raw = undefined; // the parsers below report the YAML error with its position
    }
    if (raw !== null && typeof raw === 'object' && 'overrides' in raw) {
      const overrides = parseOverrideFile(file, loadDefaultRules(), text);
      console.log(`${file}: OK, override file with ${overrides.length} override(s)`);
    } else {
      // explainedBy may name the families of the other kinds' shipped rules.
      const ownKind = raw !== null && typeof raw === 'object' ? (raw as { kind?: unknown }).kind : undefined;
      const others = [...loadDefaultRules()].filter(([k]) => k !== ownKind).flatMap(([, rs]) => rs.map((r) => r.family));
      const { kind, rules: checked } = parseRulesFile(file, text, others);
      const off = checked.filter((r) => !r.enabled).length;
      console.log(`${file}: OK, ${checked.length} ${kind} rule(s)${off > 0 ? ` (${off} disabled by default)` : ''}: ${checked.map((r) => r.id).join(', ')}`);
      console.log(`problem families (family @ asset: rules):\n${familyLines(checked).join('\n')}`);
    }
    return 0;
  } catch (err) {
    if (err instanceof RulesFileError) {
      console.error(`${err.file}: ${err.problems.length} problem(s):\n${err.problems.map((p) => `  - ${err.file}: ${p}`).join('\n')}`);
      return 1;
    }
    throw err;
  }
}

/**
 * Everything about a device kind lives in devices/<kind>/; src/ reads it through the kind
 * definitions. This test reads the source text of src/ (comments left out) and fails when it
 * names a kind: a kind id, its measurements, its sub-unit array, its fleet attributes or one of
 * its telemetry or event fields. The words come from devices/ itself, so a new kind is covered
 * as soon as it is listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { deviceKinds, envelope } from '../../../devices/index.js';
import { Building } from '../../../src/registry/fleet-schema.js';

const root = join(import.meta.dirname, '../../..');

/**
 * Single lowercase words (`status`, `code`, `port`, `power`, `smoke`) are ordinary vocabulary
 * of generic code as well (a work order's status, an error code, the `port` asset type); a
 * field is only forbidden when its name is compound (`supplyTempC`, `ratedSpeedMs`), so it can
 * only mean that kind's field. Kind ids, measurements, sub-unit arrays and fleet attributes are
 * forbidden whatever they look like, except attributes that are also building facts
 * (`floors`, `households` of a building are generic).
 */
const isCompound = (name: string) => /[A-Z0-9_]/.test(name);
const camel = (id: string) => id.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function shapeKeys(schema: unknown): string[] {
  const shape = (schema as { shape?: Record<string, unknown> }).shape;
  if (shape === undefined) return [];
  return Object.entries(shape).flatMap(([key, s]) => {
    let inner = s as { unwrap?: () => unknown; element?: unknown; def?: { type: string; innerType?: unknown } };
    // Look through optional/default wrappers and arrays of objects (sub-units).
    for (let i = 0; i < 4 && inner.def !== undefined && ['optional', 'default', 'nullable'].includes(inner.def.type); i++) inner = inner.def.innerType as typeof inner;
    const nested = inner.def?.type === 'array' ? shapeKeys(inner.element) : inner.def?.type === 'object' ? shapeKeys(inner) : [];
    return [key, ...nested];
  });
}

export function forbiddenWords(): Map<string, string> {
  const words = new Map<string, string>();
  const generic = new Set([...Object.keys(envelope), ...Object.keys(Building.shape)]);
  for (const def of Object.values(deviceKinds)) {
    const add = (word: string, what: string) => {
      if (!generic.has(word) && !words.has(word)) words.set(word, `${def.kind}: ${what}`);
    };
    add(def.kind, 'kind id');
    add(camel(def.kind), 'kind id');
    add(def.measurement, 'measurement');
    add(`${def.measurement}_event`, 'measurement');
    if (def.subUnits !== undefined) {
      add(def.subUnits.field, 'sub-unit array');
      add(def.subUnits.measurement, 'measurement');
    }
    for (const key of Object.keys(def.fleet.attributes)) add(key, 'fleet attribute');
    for (const key of [...shapeKeys(def.telemetry), ...shapeKeys(def.event)]) if (isCompound(key)) add(key, 'field');
  }
  return words;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : /\.tsx?$/.test(e.name) ? [p] : [];
  });
}

/** Identifiers and the text of string and template literals of a file: its code without comments. */
function codeTokens(file: string): { text: string; line: number; literal: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const out: { text: string; line: number; literal: boolean }[] = [];
  const visit = (node: ts.Node) => {
    const line = () => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
    if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) out.push({ text: node.text, line: line(), literal: false });
    else if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node) || ts.isRegularExpressionLiteral(node)) out.push({ text: node.text, line: line(), literal: true });
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Where src/ names a kind, as `file:line: word (what)`. */
export function kindNamesIn(dir: string, words: Map<string, string>): string[] {
  // In identifiers a word ends at a hump (`heatMeterModel` names heatMeter); in literals at any non-word character.
  const inIdentifier = [...words].map(([w, what]) => ({ w, what, re: new RegExp(`(?<![a-z0-9])${escape(w)}(?![a-z0-9])`) }));
  const inLiteral = [...words].map(([w, what]) => ({ w, what, re: new RegExp(`(?<![A-Za-z0-9_])${escape(w)}(?![A-Za-z0-9_])`) }));
  const found: string[] = [];
  for (const file of sourceFiles(dir)) {
    for (const token of codeTokens(file)) {
      for (const { w, what, re } of token.literal ? inLiteral : inIdentifier) {
        if (re.test(token.text)) found.push(`${relative(root, file)}:${token.line}: "${w}" (${what}) in ${JSON.stringify(token.text.slice(0, 80))}`);
      }
    }
  }
  return found;
}

describe('src/ names no device kind', () => {
  const words = forbiddenWords();

  it('derives the forbidden words from every kind', () => {
    for (const def of Object.values(deviceKinds)) expect(words.get(def.kind)).toBe(`${def.kind}: kind id`);
    expect(words.has('ports')).toBe(true);
    expect(words.has('supplyTempC')).toBe(true);
    expect(words.has('ratedSpeedMs')).toBe(true);
    // Building facts and the envelope are generic.
    expect(words.has('floors')).toBe(false);
    expect(words.has('seq')).toBe(false);
  });

  it('finds a kind named in code and not in comments', () => {
    const sample = join(root, 'test/unit/devices/fixtures/names-a-kind');
    expect(kindNamesIn(sample, words).map((f) => f.replace(/ in .*/, ''))).toEqual([
      'test/unit/devices/fixtures/names-a-kind/sample.ts:5: "heat-meter" (heat-meter: kind id)',
      'test/unit/devices/fixtures/names-a-kind/sample.ts:6: "ratedSpeedMs" (elevator: fleet attribute)',
      'test/unit/devices/fixtures/names-a-kind/sample.ts:7: "heatMeter" (heat-meter: kind id)',
    ]);
  });

  // Parsing every file of src/ takes a few seconds on a busy machine.
  it('src/ reads kinds only through their definitions', { timeout: 60_000 }, () => {
    expect(kindNamesIn(join(root, 'src'), words)).toEqual([]);
  });
});

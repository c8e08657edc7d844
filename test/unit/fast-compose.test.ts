import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ParsedFile, parseRegistryFileBy } from '../../src/load/parse.ts';
import { writeSyntheticRegistry } from '../bench/synthetic.ts';
import { decimalText, hostileString, jsonValue, prng, type Random } from '../support/random-registry.ts';
import { tempDir } from '../support/temp.ts';
import { entryYaml } from '../support/yaml-writer.ts';

// Differential: wherever the fast path (src/load/fast-compose.ts) does not fall back, its result must
// be exactly the composer path's: values (bigints, -0, key order), positions and diagnostics.

const encode = (text: string) => new TextEncoder().encode(text);

/** Compares both ways on one input; true when the fast way took it. */
function same(text: string | Uint8Array, name = 'f.yaml'): boolean {
  const bytes = typeof text === 'string' ? encode(text) : text;
  const fast = parseRegistryFileBy('fast', name, bytes);
  if (fast === undefined) return false;
  const slow = parseRegistryFileBy('slow', name, bytes);
  const input = typeof text === 'string' ? text : new TextDecoder().decode(text);
  expect(fast, `input: ${JSON.stringify(input)}`).toStrictEqual(slow);
  // toStrictEqual ignores key order; toJS keeps insertion order, and so must the fast way.
  const order = (p: ParsedFile | undefined) =>
    JSON.stringify(
      p!.documents.map((d) => d.value),
      (_, v) => keysOf(v),
    );
  expect(order(fast), `key order, input: ${JSON.stringify(input)}`).toBe(order(slow));
  return true;
}

const keysOf = (v: unknown) =>
  typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;

const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
    .map((e) => join(e.parentPath, e.name));

describe('fast compose', () => {
  it('takes every file of the example registry, with the same result', () => {
    const files = yamlFiles('registry');
    expect(files.length).toBeGreaterThan(10);
    for (const file of files) expect(same(readFileSync(file), file), file).toBe(true);
  });

  it('agrees on the golden validate inputs', () => {
    for (const file of yamlFiles('test/golden/validate')) same(readFileSync(file), file);
  });

  it('takes synthetic registries', () => {
    const dir = tempDir('canon-fast-');
    writeSyntheticRegistry(dir, 600);
    for (const file of yamlFiles(dir)) expect(same(readFileSync(file), file), file).toBe(true);
  });

  it('agrees on random values written in every YAML style', () => {
    let taken = 0;
    const seeds = 400;
    for (let seed = 1; seed <= seeds; seed++) {
      const r = prng(seed);
      const docs = Array.from({ length: r.int(1, 4) }, (_, i) => randomDocument(r, seed, i));
      let text = docs.join(r.chance(0.5) ? '---\n' : '--- # next\n');
      if (seed % 3 === 1) text = text.replace(/\n/g, '\r\n');
      if (seed % 4 === 2) text = `\ufeff${text}`;
      if (same(text)) taken++;
    }
    // Most take the fast way; the rest hold NUL, inexact numbers, tabs and the like.
    expect(taken).toBeGreaterThan(seeds / 2);
  });

  it('agrees on hand-written edge cases', () => {
    const taken = edgeCases.filter((text) => same(text));
    // Most of them are in what the fast way accepts.
    expect(taken.length).toBeGreaterThan(edgeCases.length / 2);
    for (const text of mustTake) expect(same(text), JSON.stringify(text)).toBe(true);
  });
});

function randomDocument(r: Random, seed: number, i: number): string {
  const values: Record<string, unknown> = { name: hostileString(r, 60) };
  const count = r.int(1, 8);
  for (let k = 0; k < count; k++) {
    const key = r.pick(['description', 'content', 'score', 'tags', 'config', 'count', 'big', 'items', 'flag']);
    values[`${key}${k}`] = randomValue(r);
  }
  const body = Object.entries(values)
    .map(([k, v]) => entryYaml(r, k, v, 0))
    .join('');
  return `kind: Prompt\nid: p-${seed}-${i}\n${body}`;
}

function randomValue(r: Random): unknown {
  switch (r.int(0, 7)) {
    case 0:
      return hostileString(r, 400);
    case 1:
      return jsonValue(r, r.int(1, 5), r.chance(0.5) ? 'object' : 'array');
    case 2:
      return BigInt(r.int(-(2 ** 31), 2 ** 31 - 1));
    case 3:
      return { units: BigInt(r.int(-999_999, 999_999)), scale: r.int(0, 4) };
    case 4:
      return Array.from({ length: r.int(0, 3) }, () => hostileString(r, 40));
    case 5:
      return r.chance(0.5);
    case 6:
      return decimalText({ units: BigInt(r.int(0, 99_999)), scale: 2 });
    default:
      return null;
  }
}

/** Inputs the fast way must take (the common registry shapes). */
const mustTake = [
  'kind: A\nid: a\n',
  'kind: A\nid: a\nlist:\n- x\n- y\n',
  'kind: A\nid: a\nlist:\n  - x\n  - y\n',
  'kind: A\nid: a\nmap:\n  b: 1\n  c:\n    d: [1, 2, {e: f}]\n',
  'kind: A\nid: a\ntext: |\n  one\n  two\n',
  'kind: A\nid: a\ntext: >-\n  one\n  two\n\n  three\n',
  'kind: A\nid: a\n# comment\nname: n # trailing\n# last\n',
  '---\nkind: A\nid: a\n...\n---\nkind: B\nid: b\n',
  'kind: A\r\nid: a\r\nname: "q\\tx"\r\n',
  '\ufeffkind: A\nid: a\n',
  'kind: A\nid: a\n\'key: with colon\': v\n"other: key": w\n',
  'kind: A\nid: a\nvalue:\n  plain scalar\n  folded over lines\n',
  'kind: A\nid: a\nempty:\nnext: ~\nn2: null\nn3: Null\nseq:\n-\n- a\n',
  'kind: A\nid: a\nnums: [0o17, 0x1F, +12, -0, .inf, -.Inf, .nan, 1e3, 1_000, 1.50, .5, 5., 12e-3]\n',
  'kind: A\nid: a\nwords: [yes, on, no, off, y, n, True, FALSE, NULL]\n',
  'kind: A\nid: a\n1: one\ntrue: t\n0o17: oct\n',
  'kind: A\nid: a\nflows: [[], {}, [ ], { }, [a, ], {a: , b: }]\n',
  'kind: A\nid: a\nbig: 9007199254740993\nneg: -123456789012345678901234567890\nhex: 0xFFFFFFFFFFFFFFFFFF\n',
  'kind: A\nid: a\nitems:\n  - name: x\n    primary: true\n  - - nested\n    - seq\n',
  'kind: A\nid: a\nq: "a\\x41\\u00e9\\U0001F600\\e\\N\\_\\L\\P\\ \\/\\"\\\\\\t\\r\\a\\b\\f\\v"\n',
  'kind: A\nid: a\nempty: # comment\nseq:\n-  # comment\n- \nflow: {a: # c\n  , b: 1}\n',
  `kind: A\nid: a\nt: |\n${'  line of a long block scalar\n'.repeat(60)}after: 1\n`,
  'kind: A\nid: a\nm: {\n  a: 1, # c\n  "b":\n    2\n}\n',
];

const chompings = ['|', '|-', '|+', '>', '>-', '>+', '|2', '|2-', '>1+', '|+2', '|-1'];
const blockBodies = ['  a\n  b\n', '  a\n\n  b\n\n\n', '   a\n  b\n', '  a\n    more\n  b\n', '\n\n  a\n', '', '  \n'];

const edgeCases: string[] = [
  ...mustTake,
  ...chompings.flatMap((h) => blockBodies.map((b) => `kind: A\nid: a\nt: ${h}\n${b}next: 1\n`)),
  ...chompings.map((h) => `kind: A\nid: a\nt: ${h} # comment\n  x\n`),
  ...chompings.map((h) => `kind: A\nid: a\nl:\n- ${h}\n  x\n\n- y\n`),
  'kind: A\nid: a\nt: |\n  x\n\n',
  'kind: A\nid: a\nt: |+\n  x\n\n',
  'kind: A\nid: a\nt: >\n  folded\n   more\n  back\n\n  para\n',
  'kind: A\nid: a\nt: >\n\tx\n',
  'kind: A\nid: a\nq: "a\\x41\\u00e9\\U0001F600\\0\\e\\N\\_\\L\\P\\ \\/\\"\\\\"\n',
  'kind: A\nid: a\nq: "bad \\q escape"\n',
  'kind: A\nid: a\nq: "\\uD83D lone surrogate \\U00110000"\n',
  `kind: A\nid: a\nm: {${'k'.repeat(1100)}: v}\n`,
  'kind: A\nid: a\nq: "line\n  folded\n\n  para  \n  end"\n',
  'kind: A\nid: a\nq: "escaped \\\n   break"\n',
  "kind: A\nid: a\nq: 'it''s\n  folded'\n",
  'kind: A\nid: a\nq: "\\x00"\n',
  'kind: A\nid: a\nf: 0.10000000000000000555\n',
  'kind: A\nid: a\nf: 3.141592653589793238462\n',
  'kind: A\nid: a\nf: 1e20\ng: 1e400\nh: -1e-400\n',
  'kind: A\nid: a\nkind: B\n',
  'kind: A\nid: a\n1: x\n"1": y\n',
  'kind: A\nid: a\n~: x\n',
  'kind: A\nid: a\n: x\n',
  'kind: A\nid: a\n__proto__: x\n',
  'kind: A\nid: a\nm: {constructor: 1}\n',
  'kind: A\nid: a\nx: &anchor 1\ny: *anchor\n',
  'kind: A\nid: a\nx: !!str 1\n',
  '%YAML 1.2\n---\nkind: A\nid: a\n',
  '? kind\n: A\nid: a\n',
  '- a\n- b\n',
  'just a string\n',
  '---\n---\nkind: A\n',
  'kind: A\nid: a\n...\n',
  'kind: A\nid: a\n... # end\n',
  '# only a comment\n',
  'kind: A\n\tid: a\n',
  'kind: A\nid:\ta\n',
  'kind:    A   \nid  : a\n',
  'kind: A\nid: a\nlist:\n- a\n  # comment\n- b\n# end\n',
  'kind: A\nid: a\nmap:\n  # before\n  b: 1\n  # after\nc: 2\n',
  'kind: A\nid: a\nflow: [a, # c\n  b]\n',
  'kind: A\nid: a\nflow: [a,# c\n  b]\n',
  'kind: A\nid: a\nflow: [a b, "c d", \'e\']\n',
  'kind: A\nid: a\nflow: {"a":1, b: [x, {c: d}]}\n',
  'kind: A\nid: a\nflow: [a, , b]\n',
  'kind: A\nid: a\nflow: [, a]\n',
  'kind: A\nid: a\nflow: {a, b: c}\n',
  'kind: A\nid: a\nflow: [a: b]\n',
  'kind: A\nid: a\nflow: [a\n',
  'kind: A\nid: a\nflow: [\n  a,\n  b\n  ]\n',
  'kind: A\nid: a\nflow: [\na]\n',
  'kind: A\nid: a\nvalue:\n  on the next line\n',
  'kind: A\nid: a\nk: v\n  bad: indent\n',
  'kind: A\nid: a\nk: v: w\n',
  'kind: A\nid: a\nk: - a\n',
  '--- kind: A\n',
  '--- # comment\nkind: A\nid: a\n',
  'kind: A\nid: a\nplain: a # not\n  continued\n',
  'kind: A\nid: a\nplain: @x\n',
  'kind: A\nid: a\nplain: `x\n',
  'kind: A\nid: a\nk:\n    - deep\n    - seq\n',
  `kind: A\nid: a\nlong: ${'x'.repeat(2000)}\n`,
  `kind: A\nid: a\n${'k'.repeat(1100)}: v\n`,
  'kind: A\nid: a\ntoString: 1\nhasOwnProperty: 2\n',
  'kind: A\nid: a\nkey with spaces: 1\n"a/b~c": 2\n',
  'kind: A\nid: a\na:\n  b: 1\n  c:\n  - x\n',
  'kind: A\r\nid: a\r\nt: |\r\n  x\r\n  y\r\n\r\nq: "a\r\n  b"\r\nm: a\r\n  b\r\n',
  `kind: A\nid: a\nnested:\n${Array.from({ length: 70 }, (_, d) => `${'  '.repeat(d + 1)}k${d}:`).join('\n')} x\n`,
];

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { codes } from '../../src/diagnostics/codes.ts';
import { type LoadedRegistry, loadRegistry, loadRegistryAsync } from '../../src/load/load.ts';
import { defaultWorkerScript } from '../../src/load/parallel.ts';
import { checkRegistry, checkRegistryAsync } from '../../src/pipeline/check.ts';
import { writeSyntheticRegistry } from '../bench/synthetic.ts';
import { catalog } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const { yamlSyntax, duplicateKey, notUtf8, aliasExpansion, forbiddenKey, nestingTooDeep } = codes;
const { emptyFile, emptyDocument, notAMapping, nulCharacter, inexactNumber } = codes;
const parseCodes = {
  ...{ yamlSyntax, duplicateKey, notUtf8, aliasExpansion, forbiddenKey, nestingTooDeep },
  ...{ emptyFile, emptyDocument, notAMapping, nulCharacter, inexactNumber },
};

const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * A synthetic registry (about 1 MB, so several worker batches) with a file for each way parsing fails
 * or reads a value JSON and plain objects do not keep: the results must cross a thread unchanged.
 */
function hostileRegistry(): string {
  const dir = join(tempDir('canon-parallel-'), 'registry');
  writeSyntheticRegistry(dir, 2000);
  const odd = join(dir, 'odd');
  mkdirSync(odd);
  const files: Record<string, string | Uint8Array> = {
    'bad-yaml.yaml': 'kind: Tool\nid: bad\nname: [unclosed\n',
    'not-utf8.yaml': new Uint8Array([...bytes('kind: Tool\nid: x\nname: b'), 0xc3, 0x28, 0x0a]),
    'too-deep.yaml': `kind: Tool\nid: deep\nname: ${'['.repeat(100)}${']'.repeat(100)}\n`,
    'duplicate.yaml': 'kind: Tool\nid: dup\nname: a\nname: b\n',
    'big-integers.yaml':
      'kind: Tool\nid: big\nname: n\nx: 9007199254740993\ny: -0x20000000000001\nz: {9007199254740993: k}\n',
    'nul.yaml': 'kind: Tool\nid: nul\nname: "a\\0b"\n"k\\x00": 1\n',
    'empty.yaml': '\n',
    'not-a-mapping.yaml': '- a\n- b\n',
    'forbidden.yaml': 'kind: Tool\nid: proto\nnested:\n  __proto__: {x: 1}\n',
    'aliases.yaml': `kind: Tool\nid: alias\nname: n\nshared: &s {a: [1, 2]}\nagain: *s\n---\n${'x: &a [1]\n'}`,
    'bomb.yaml': ['a: &a [x, x, x, x, x, x, x, x, x]', 'b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]']
      .concat(['c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]', 'd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]', ''])
      .join('\n'),
    'numbers.yaml': 'kind: Tool\nid: num\nname: n\nnan: .nan\ninf: -.inf\nzero: -0.0\npi: 3.14159265358979323846\n',
    'bom-crlf.yaml': '\ufeffkind: Tool\r\nid: crlf\r\nname: n\r\n---\r\n---\r\nkind: Tool\r\n',
  };
  for (const [name, content] of Object.entries(files)) writeFileSync(join(odd, name), content);
  return dir;
}

/** Equal as values and as JSON text (key order, -0 and NaN included). */
function expectSame(actual: LoadedRegistry, expected: LoadedRegistry) {
  expect(isDeepStrictEqual(actual, expected)).toBe(true);
  expect(actual).toStrictEqual(expected);
  const json = (r: LoadedRegistry) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  expect(json(actual)).toBe(json(expected));
}

describe('loadRegistryAsync', () => {
  const dir = hostileRegistry();
  const single = loadRegistry(dir);

  it('parses on worker threads exactly what one thread parses, hostile files included', async () => {
    const found = new Set(single.diagnostics.map((d) => d.code));
    for (const code of Object.values(parseCodes)) expect(found).toContain(code);
    const aliased = single.documents.find((d) => (d.value as { id?: string }).id === 'alias')!.value as {
      shared: unknown;
      again: unknown;
    };
    expect(aliased.again).toBe(aliased.shared);
    const failures: Error[] = [];
    const onWorkerError = (e: Error) => failures.push(e);
    for (const threads of [1, 2, 3]) expectSame(await loadRegistryAsync(dir, { threads, onWorkerError }), single);
    expect(failures).toEqual([]);
    const threaded = await loadRegistryAsync(dir, { threads: 2 });
    const value = (r: LoadedRegistry, id: string) =>
      r.documents.find((d) => (d.value as { id?: string }).id === id)!.value as Record<string, unknown>;
    // An alias still shares its value across the thread boundary, as toJS made it.
    expect(value(threaded, 'alias').again).toBe(value(threaded, 'alias').shared);
    expect(value(threaded, 'big').x).toBe(9007199254740993n);
    expect(Object.is(value(threaded, 'num').zero, -0)).toBe(true);
  });

  it('stores what workers parse in the cache, and reads it back the same', async () => {
    const cacheDir = tempDir('canon-parallel-cache-');
    expectSame(await loadRegistryAsync(dir, { threads: 2, cacheDir }), single);
    // Every file JSON can hold has its entry, whichever thread parsed (and wrote) it.
    const entries = readdirSync(cacheDir, { recursive: true }).filter((e) =>
      /^[0-9a-f]{2}\/\w+\.json$/.test(String(e)),
    );
    // All but big-integers.yaml and numbers.yaml, whose values JSON cannot hold.
    expect(entries).toHaveLength(single.files - 2);
    expect(entries.filter((e) => String(e).endsWith('.tmp'))).toEqual([]);
    expectSame(await loadRegistryAsync(dir, { threads: 2, cacheDir }), single);
    expectSame(loadRegistry(dir, { cacheDir }), single);
  });

  it('checks a registry the same way on worker threads', async () => {
    const checked = checkRegistry(dir, catalog);
    const threaded = await checkRegistryAsync(dir, catalog, { threads: 2 });
    expect(threaded.diagnostics).toStrictEqual(checked.diagnostics);
    expect(threaded.graph.assets).toStrictEqual(checked.graph.assets);
  });

  it('parses on this thread what a worker that cannot start, dies or throws left', async () => {
    const source = defaultWorkerScript()!;
    expect(source.eval).toBe(true); // the tests run the TypeScript sources
    const diesOnSecondBatch =
      "let batches = 0; require('node:worker_threads').parentPort.on('message', () => { " +
      `if (++batches === 2) process.exit(9); }); ${source.script as string}`;
    const workers = {
      missing: { script: new URL('./no-such-parse-worker.js', import.meta.url) },
      exits: { script: 'process.exit(3)', eval: true },
      throws: {
        script: "require('node:worker_threads').parentPort.on('message', () => { throw new Error('boom'); })",
        eval: true,
      },
      diesOnSecondBatch: { script: diesOnSecondBatch, eval: true },
    };
    for (const [name, worker] of Object.entries(workers)) {
      const failures: Error[] = [];
      const loaded = await loadRegistryAsync(dir, { threads: 2, worker, onWorkerError: (e) => failures.push(e) });
      expectSame(loaded, single);
      expect(failures.length, name).toBeGreaterThan(0);
    }
  });

  it('parses on this thread what a worker that hangs holds, once it has been silent too long', async () => {
    const hangs = { script: "require('node:worker_threads').parentPort.on('message', () => {})", eval: true };
    const failures: Error[] = [];
    const options = { threads: 2, worker: hangs, workerSilenceMs: 200, onWorkerError: (e: Error) => failures.push(e) };
    expectSame(await loadRegistryAsync(dir, options), single);
    expect(failures.map((e) => e.message)).toEqual(['a parse worker answered nothing for 200 ms']);
  });
});

import { cpSync, existsSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { afterAll, describe, expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { isMapping } from '../../src/load/document.ts';
import { loadRegistry } from '../../src/load/load.ts';
import { defaultLimits } from '../../src/load/parse.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { renderValidationText, summarize } from '../../src/render/diagnostics.ts';
import { plainStyle } from '../../src/render/style.ts';
import { compileValidators, type Validators } from '../../src/validate/ajv.ts';
import { cachedValidators } from '../../src/validate/compiled-cache.ts';
import { tempDir } from '../support/temp.ts';

const catalog = loadKindCatalog('schemas');
const scratch = tempDir('canon-validator-cache-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let folders = 0;
const freshDir = () => join(scratch, `cache-${folders++}`);
const entries = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mjs')) : []);

const goldenDir = join(import.meta.dirname, '..', 'golden', 'validate');
const goldenCases = readdirSync(goldenDir).sort();
const limitsOf = (dir: string) => {
  const file = join(dir, 'case.json');
  return existsSync(file) ? { ...defaultLimits, ...JSON.parse(readFileSync(file, 'utf8')) } : defaultLimits;
};

/** What `canon validate` prints for a golden case with these validators. */
function report(name: string, validators: Validators): string {
  const dir = join(goldenDir, name);
  const result = checkRegistry(join(dir, 'registry'), catalog, { root: dir, limits: limitsOf(dir), validators });
  const summary = summarize(result.diagnostics, result.files, result.graph.assets.length);
  return renderValidationText(result.diagnostics, summary, plainStyle);
}

describe('validators cached as ajv standalone code', () => {
  const compiled = compileValidators(catalog);
  const dir = freshDir();
  let written: Validators;
  let imported: Validators;

  it('are compiled and written on the first run, imported from the written module on the next', async () => {
    written = await cachedValidators(catalog, dir);
    expect(entries(dir)).toHaveLength(1);
    imported = await cachedValidators(catalog, dir);
    expect(entries(dir)).toHaveLength(1);
    // Imported functions are the module's, not the ones ajv compiled in this process.
    for (const kind of catalog.kinds.keys()) expect(imported.get(kind)).not.toBe(written.get(kind));
    expect([...imported.keys()].sort()).toEqual([...catalog.kinds.keys()].sort());
  });

  it.each(goldenCases)('print exactly what freshly compiled validators print: %s', (name) => {
    const expected = report(name, compiled);
    expect(report(name, written)).toBe(expected);
    expect(report(name, imported)).toBe(expected);
  });

  it('return the same ajv errors, formats included, for every document of the golden cases and the example', () => {
    const documents = [...goldenCases.map((name) => join(goldenDir, name, 'registry')), 'registry']
      .flatMap((registry) => loadRegistry(registry, { limits: limitsOf(join(registry, '..')) }).documents)
      .map((doc) => doc.value);
    // Every format the schemas use, written wrong, in one document.
    const badFormats = { uuid: 'not-a-uuid', source_url: 'not a url', published_date: '5 March' };
    documents.push({ kind: 'KnowledgeSource', id: 'k', name: 'K', ...badFormats });
    let withErrors = 0;
    const formats = new Set<string>();
    for (const value of documents) {
      if (!isMapping(value) || typeof value.kind !== 'string' || !catalog.kinds.has(value.kind)) continue;
      const run = (validators: Validators) => {
        const validate = validators.get(value.kind as string) as ValidateFunction;
        return { valid: validate(value), errors: validate.errors ?? null };
      };
      const expected = run(compiled);
      expect(run(imported)).toEqual(expected);
      if (expected.errors) withErrors++;
      for (const e of expected.errors ?? []) if (e.keyword === 'format') formats.add(String(e.params.format));
    }
    expect(withErrors).toBeGreaterThan(10);
    expect([...formats].sort()).toEqual(['date', 'uri', 'uuid']);
  });
});

type AgentSchema = { description: string; properties: Record<string, Record<string, unknown>> };

/** The catalog of a copy of schemas/ whose Agent schema `change` edited. */
function schemasWith(change: (agent: AgentSchema) => void) {
  const dir = join(scratch, `schemas-${folders++}`);
  cpSync('schemas', dir, { recursive: true });
  const agentFile = join(dir, 'Agent.schema.json');
  const agent = JSON.parse(readFileSync(agentFile, 'utf8'));
  change(agent);
  writeFileSync(agentFile, JSON.stringify(agent));
  return loadKindCatalog(dir);
}

describe('the validator cache', () => {
  it('replaces a damaged entry', async () => {
    const dir = freshDir();
    await cachedValidators(catalog, dir);
    const [entry] = entries(dir);
    writeFileSync(join(dir, entry!), 'export const validators = {'); // a run killed mid-write, say
    const validators = await cachedValidators(catalog, dir);
    expect(validators.get('Agent')!({ kind: 'Agent', id: 'a' })).toBe(false);
    expect(readFileSync(join(dir, entry!), 'utf8')).toContain('export const validators = {"');
  });

  it('keeps one entry per version of the schemas', async () => {
    const dir = freshDir();
    await cachedValidators(catalog, dir);
    const changed = await cachedValidators(
      schemasWith((agent) => (agent.properties.display_name!.maxLength = 3)),
      dir,
    );
    expect(entries(dir)).toHaveLength(2);
    expect(changed.get('Agent')!({ kind: 'Agent', id: 'a', name: 'A', display_name: 'Long name' })).toBe(false);
    expect(changed.get('Agent')!.errors!.map((e) => e.keyword)).toContain('maxLength');
  });

  it('removes entries not written for 30 days when it writes a new one', async () => {
    const dir = freshDir();
    await cachedValidators(catalog, dir);
    const [current] = entries(dir);
    const monthsAgo = new Date(Date.now() - 31 * 24 * 3600 * 1000);
    writeFileSync(join(dir, 'stale.mjs'), 'export const validators = {};');
    utimesSync(join(dir, 'stale.mjs'), monthsAgo, monthsAgo);
    writeFileSync(join(dir, 'recent.mjs'), 'export const validators = {};');
    await cachedValidators(catalog, dir); // a hit writes nothing, so removes nothing
    expect(entries(dir).sort()).toEqual([current, 'recent.mjs', 'stale.mjs'].sort());
    const other = await cachedValidators(
      schemasWith((agent) => (agent.description = 'changed')),
      dir,
    ); // a miss
    expect(other.get('Agent')).toBeTypeOf('function');
    expect(entries(dir)).toHaveLength(3);
    expect(entries(dir)).toContain(current);
    expect(entries(dir)).toContain('recent.mjs');
  });

  it('is not used without a folder: the validators are compiled', async () => {
    const validators = await cachedValidators(catalog, undefined);
    expect(validators.get('Prompt')!({ kind: 'Prompt', id: 'p' })).toBe(false);
  });
});

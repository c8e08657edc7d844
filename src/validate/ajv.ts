import { createRequire } from 'node:module';
import type { Ajv2020, ValidateFunction } from 'ajv/dist/2020.js';
import { annotationKeywords, type KindCatalog } from '../kinds/model.ts';
import { ajvOptions } from './ajv-options.ts';

export type Validators = ReadonlyMap<string, ValidateFunction>;

// ajv is loaded when validators are compiled, not with this module: a run that finds them compiled
// in the cache (see compiled-cache.ts) never loads it. Its packages are CommonJS, hence require.
const require = createRequire(import.meta.url);
const withDefault = <T>(module: unknown) => ((module as { default?: T }).default ?? module) as T;

function ajvFor(catalog: KindCatalog, keepSource: boolean): Ajv2020 {
  const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
  const addFormats = withDefault<(ajv: Ajv2020) => Ajv2020>(require('ajv-formats'));
  const ajv = new Ajv2020({ ...ajvOptions, ...(keepSource ? { code: { source: true, esm: true } } : {}) });
  addFormats(ajv);
  ajv.addVocabulary([...annotationKeywords]);
  for (const schema of catalog.schemas.values()) ajv.addSchema(schema);
  return ajv;
}

const validatorsOf = (ajv: Ajv2020, catalog: KindCatalog): Validators =>
  new Map([...catalog.kinds.values()].map((model) => [model.kind, ajv.getSchema(model.schemaId)!]));

/** One compiled validator per kind. allErrors: a run reports every problem, not just the first. */
export function compileValidators(catalog: KindCatalog): Validators {
  return validatorsOf(ajvFor(catalog, false), catalog);
}

/**
 * The validators, and an ES module that recreates them without ajv (ajv's standalone code). The
 * module exports `validators`, an object from kind to function. Its code calls `require` for ajv's
 * runtime helpers and ajv-formats' checks: `requireFrom` is the file those are resolved from.
 */
export function compileValidatorModule(
  catalog: KindCatalog,
  requireFrom: string,
): { validators: Validators; source: string } {
  const ajv = ajvFor(catalog, true);
  const validators = validatorsOf(ajv, catalog);
  type StandaloneCode = (ajv: Ajv2020, refs: Record<string, string>) => string;
  const moduleCode = withDefault<StandaloneCode>(require('ajv/dist/standalone/index.js'));
  const exportNames = new Map([...catalog.kinds.keys()].map((kind, i) => [kind, `kind${i}`]));
  const refs = Object.fromEntries([...catalog.kinds.values()].map((m) => [exportNames.get(m.kind)!, m.schemaId]));
  const byKind = [...exportNames].map(([kind, name]) => `${JSON.stringify(kind)}: ${name}`);
  const source = [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(${JSON.stringify(requireFrom)});`,
    moduleCode(ajv, refs),
    `export const validators = {${byKind.join(', ')}};`,
    '',
  ].join('\n');
  return { validators, source };
}

import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { annotationKeywords, type KindCatalog } from '../kinds/model.ts';

// ajv-formats is CommonJS with a default export; under NodeNext the namespace object arrives instead.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv2020) => Ajv2020;

export type Validators = ReadonlyMap<string, ValidateFunction>;

/** One compiled validator per kind. allErrors: a run reports every problem, not just the first. */
export function compileValidators(catalog: KindCatalog): Validators {
  const ajv = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addVocabulary([...annotationKeywords]);
  for (const schema of catalog.schemas.values()) ajv.addSchema(schema);
  const validators = new Map<string, ValidateFunction>();
  for (const model of catalog.kinds.values()) validators.set(model.kind, ajv.getSchema(model.schemaId)!);
  return validators;
}

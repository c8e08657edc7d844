import type { ErrorObject } from 'ajv';
import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import type { KindCatalog, KindModel } from '../kinds/model.ts';
import { isMapping, locate, type SourceDocument } from '../load/document.ts';
import type { LoadedRegistry } from '../load/load.ts';
import { compileValidators, type Validators } from './ajv.ts';
import { columnFitProblems } from './column-fit.ts';
import { type Segment, translate } from './messages.ts';

export type AssetValue = Record<string, unknown> & { kind: string; id: string };

/** A document whose kind is known and whose id is usable, so references to it can resolve. */
export interface KindedDocument {
  doc: SourceDocument;
  model: KindModel;
  value: AssetValue;
  /** False when the schema found problems: the resolver still indexes it, but does not follow its references. */
  valid: boolean;
}

export interface ValidatedRegistry {
  documents: KindedDocument[];
  diagnostics: Diagnostic[];
}

// Compiling the schemas costs hundreds of milliseconds; a catalog is read-only once loaded, so each
// catalog is compiled once per process however often it validates (tests, a watching `canon dev`).
const compiled = new WeakMap<KindCatalog, Validators>();
function validatorsOf(catalog: KindCatalog): Validators {
  let validators = compiled.get(catalog);
  if (!validators) compiled.set(catalog, (validators = compileValidators(catalog)));
  return validators;
}

/** Stage 2: documents → documents checked against their kind's JSON Schema. */
export function validateRegistry(
  loaded: LoadedRegistry,
  catalog: KindCatalog,
  validators: Validators = validatorsOf(catalog),
): ValidatedRegistry {
  const documents: KindedDocument[] = [];
  const diagnostics: Diagnostic[] = [];
  const kindNames = [...catalog.kinds.keys()];
  for (const doc of loaded.documents) {
    if (!isMapping(doc.value)) continue;
    const kind = doc.value.kind;
    if (kind === undefined) {
      diagnostics.push(
        error(codes.missingKind, locate(doc, []), `missing 'kind'; add one of: ${kindNames.join(', ')}`),
      );
      continue;
    }
    const model = typeof kind === 'string' ? catalog.kinds.get(kind) : undefined;
    if (!model) {
      const hint = typeof kind === 'string' ? didYouMean(kind, kindNames) : '';
      diagnostics.push(
        error(
          codes.unknownKind,
          locate(doc, ['kind']),
          `unknown kind ${JSON.stringify(kind)}.${hint || ` Known kinds: ${kindNames.join(', ')}.`}`,
        ),
      );
      continue;
    }
    const validate = validators.get(model.kind)!;
    const schemaValid = validate(doc.value) === true;
    const found = schemaValid ? [] : relevantErrors(validate.errors ?? []).map((e) => toDiagnostic(doc, e));
    // A value the schema already refuses is reported once, by the schema.
    const reported = new Set(found.map((d) => `${d.line}:${d.column}`));
    const unfit = columnFitProblems(doc, model).filter((d) => !reported.has(`${d.line}:${d.column}`));
    const valid = schemaValid && unfit.length === 0;
    diagnostics.push(...found, ...unfit);
    if (typeof doc.value.id === 'string' && doc.value.id !== '')
      documents.push({ doc, model, value: doc.value as AssetValue, valid });
  }
  return { documents, diagnostics };
}

function pathOf(doc: SourceDocument, instancePath: string): Segment[] {
  const path: Segment[] = [];
  let node: unknown = doc.value;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const key: Segment = Array.isArray(node) ? Number(segment) : segment;
    path.push(key);
    node = isMapping(node) || Array.isArray(node) ? (node as Record<string | number, unknown>)[key] : undefined;
  }
  return path;
}

function toDiagnostic(doc: SourceDocument, e: ErrorObject): Diagnostic {
  const path = pathOf(doc, e.instancePath);
  const translated = translate(e, path);
  const target = translated.at === undefined ? path : [...path, translated.at];
  return error(translated.code, locate(doc, target, translated.pointAtKey ? 'key' : 'value'), translated.message);
}

/**
 * Removes anyOf noise. Our anyOfs offer an id or a mapping; an author wrote one of them, so a `type`
 * error at the anyOf's own path only says "this is the other branch" and is dropped. When nothing but
 * such type errors remains, no branch fits and the anyOf error alone speaks. (Errors inside a `$ref`
 * carry the referenced schema's path, so branches are told apart by instance path, not schema path.)
 */
export function relevantErrors(errors: readonly ErrorObject[]): ErrorObject[] {
  const dropped = new Set<ErrorObject>();
  const kept = new Set<ErrorObject>();
  for (const anyOf of errors.filter((e) => e.keyword === 'anyOf')) {
    const at = anyOf.instancePath;
    const inside = errors.filter((e) => e !== anyOf && (e.instancePath === at || e.instancePath.startsWith(at + '/')));
    const branchMismatches = inside.filter((e) => e.keyword === 'type' && e.instancePath === at);
    branchMismatches.forEach((e) => dropped.add(e));
    if (inside.length > branchMismatches.length) dropped.add(anyOf);
    else kept.add(anyOf);
  }
  return errors
    .filter((e) => !dropped.has(e))
    .map((e) => (kept.has(e) ? { ...e, keyword: 'type', params: { type: 'string,object' } } : e));
}

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Ajv2020 } from 'ajv/dist/2020.js';
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import { codes } from '../../diagnostics/codes.ts';
import { type Diagnostic, error } from '../../diagnostics/diagnostic.ts';
import type { KindCatalog, KindModel } from '../../kinds/model.ts';
import { itemSchemas } from './conform.ts';

/** An expression: a column name, or an operator (see presets/mapping.schema.json and the README). */
export type Expression =
  | string
  | { column: string }
  | { const: unknown }
  | { coalesce: Expression[] }
  | { concat: Expression[] }
  | { slug: Expression }
  | { object: Record<string, Expression> }
  | { map: Expression; values: Record<string, unknown>; otherwise?: Expression }
  | { when: Condition; then: Expression; else?: Expression }
  | { ref: string; from: Expression };

export type Condition =
  | { is_null: Expression }
  | { not_null: Expression }
  | { equals: [Expression, Expression] }
  | { always: true }
  | { exists_in: { source: string; match: Record<string, Expression> } };

export interface SourceMapping {
  table?: string;
  query?: string;
  name?: string;
  key?: string;
  kind?: string;
  id?: Expression;
  tenant?: Expression;
  fields?: Record<string, Expression>;
  relations?: Record<string, Record<string, Expression>[]>;
  skip?: { when: Condition; reason: string }[];
  merge?: { on: string[] };
  into?: { source: string; owner: Expression; property: string };
  item?: Record<string, Expression>;
  deprecate?: boolean;
}

export interface LegacyMapping {
  format_version: 1;
  name: string;
  description?: string;
  sources: SourceMapping[];
  /** The file it was read from, for diagnostics. */
  file: string;
}

/** A source's name in reports and in `ref`: its `name`, else its table. */
export const sourceName = (s: SourceMapping) => s.name ?? s.table!;

const presetsDir = join(dirname(fileURLToPath(import.meta.url)), 'presets');
/** The built-in presets ship as YAML beside the source (src/import/legacy/presets), found from dist/ too. */
function presetFile(name: string): string | undefined {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  for (const dir of [presetsDir, join(root, 'src', 'import', 'legacy', 'presets')]) {
    const file = join(dir, `${name}.yaml`);
    if (existsSync(file)) return file;
  }
  return undefined;
}
const schemaPath = () =>
  [
    join(presetsDir, 'mapping.schema.json'),
    join(
      dirname(fileURLToPath(import.meta.url)),
      '..',
      '..',
      '..',
      'src',
      'import',
      'legacy',
      'presets',
      'mapping.schema.json',
    ),
  ].find((f) => existsSync(f))!;

const require = createRequire(import.meta.url);
let validator: ReturnType<Ajv2020['compile']> | undefined;
function validateMapping(value: unknown) {
  if (!validator) {
    const { Ajv2020 } = require('ajv/dist/2020.js') as typeof import('ajv/dist/2020.js');
    const ajv = new Ajv2020({ allErrors: false, strict: false });
    validator = ajv.compile(JSON.parse(readFileSync(schemaPath(), 'utf8')));
  }
  return validator(value) ? [] : (validator.errors ?? []);
}

/** `seed` (a built-in preset) or a path to a mapping file. */
export function resolveMappingFile(option: string): string | undefined {
  if (/^[a-z][a-z0-9-]*$/.test(option) && !existsSync(option)) return presetFile(option);
  return existsSync(option) ? option : undefined;
}

/**
 * Reads and checks a mapping file: against its JSON Schema, then that every `ref`, `into.source` and
 * `exists_in.source` names a source of the file. Problems are diagnostics at the offending node.
 */
export function loadMapping(
  file: string,
  catalog?: KindCatalog,
): { mapping?: LegacyMapping; diagnostics: Diagnostic[] } {
  const text = readFileSync(file, 'utf8');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const at = (node: Node | null | undefined) => {
    const { line, col } = lineCounter.linePos(node?.range?.[0] ?? 0);
    return { file, line, column: col };
  };
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const { line, col } = lineCounter.linePos(e.pos[0]);
    return { diagnostics: [error(codes.yamlSyntax, { file, line, column: col }, e.message)] };
  }
  const value = doc.toJS() as unknown;
  const nodeAt = (path: (string | number)[]) => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && (isMap(node) || isSeq(node) || typeof node === 'object')) return node;
    }
    return doc.contents;
  };
  const errors = validateMapping(value);
  if (errors.length > 0) {
    const e = errors[0]!;
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
    const where = e.instancePath || '(the file)';
    const hint = 'see the mapping format in the README (Importing a legacy database)';
    const message = `${where}: ${e.message ?? 'invalid'}; ${hint}`;
    return { diagnostics: [error(codes.legacyMapping, at(nodeAt(path) as Node), message)] };
  }
  const mapping = { ...(value as Omit<LegacyMapping, 'file'>), file } as LegacyMapping;
  const names = new Set(mapping.sources.map(sourceName));
  const diagnostics: Diagnostic[] = [];
  const check = (name: string, path: (string | number)[], what: string) => {
    if (!names.has(name)) {
      const known = [...names].join(', ');
      diagnostics.push(
        error(
          codes.legacyMapping,
          at(nodeAt(path) as Node),
          `${what} '${name}' is not a source of this mapping (${known})`,
        ),
      );
    }
  };
  mapping.sources.forEach((source, i) => {
    if (source.into) check(source.into.source, ['sources', i, 'into', 'source'], 'into.source');
    walk(source, (node, path) => {
      if (typeof node.ref === 'string') check(node.ref, ['sources', i, ...path, 'ref'], 'ref');
      const exists = node.exists_in as { source?: unknown } | undefined;
      if (exists && typeof exists.source === 'string')
        check(exists.source, ['sources', i, ...path], 'exists_in.source');
    });
  });
  if (catalog && diagnostics.length === 0) {
    // A wrong property name is pointed at where the name is written, not at its value.
    const keyAt = (path: (string | number)[]) => {
      const parent = doc.getIn(path.slice(0, -1), true);
      const pair = isMap(parent)
        ? parent.items.find((item) => isScalar(item.key) && item.key.value === path.at(-1))
        : undefined;
      return (pair?.key as Node | undefined) ?? (nodeAt(path) as Node);
    };
    for (const problem of catalogProblems(mapping, catalog)) {
      const node = problem.name ? keyAt(problem.path) : (nodeAt(problem.path) as Node);
      diagnostics.push(error(codes.legacyMapping, at(node), problem.message));
    }
  }
  return diagnostics.length > 0 ? { diagnostics } : { mapping, diagnostics };
}

/**
 * Every kind the mapping names exists, and every property it writes is a field, list or entry property
 * of that kind: found here, with the node to point at, rather than when the import runs.
 */
function catalogProblems(mapping: LegacyMapping, catalog: KindCatalog) {
  // `name`: the path ends in a property name that is wrong (point at the name, not its value).
  const problems: { path: (string | number)[]; message: string; name?: boolean }[] = [];
  const kinds = [...catalog.kinds.keys()].sort().join(', ');
  const entries = (
    model: KindModel,
    property: string,
    template: Record<string, unknown>,
    path: (string | number)[],
  ) => {
    const allowed = Object.keys(itemSchemas(catalog, model, property));
    for (const key of Object.keys(template).filter((k) => !allowed.includes(k)))
      problems.push({
        path: [...path, key],
        name: true,
        message: `'${key}' is not a property of ${model.kind} ${property} entries (${allowed.join(', ')})`,
      });
  };
  mapping.sources.forEach((source, i) => {
    const at = (...rest: (string | number)[]) => ['sources', i, ...rest];
    const model = source.kind ? catalog.kinds.get(source.kind) : undefined;
    if (source.kind && !model) {
      problems.push({ path: at('kind'), message: `kind '${source.kind}' is not one of the schemas' kinds (${kinds})` });
      return;
    }
    if (model) {
      for (const p of Object.keys(source.fields ?? {})) {
        const field = model.columns.some((c) => c.property === p);
        const reference = model.references.some((r) => r.property === p && !r.many);
        if (!field && !reference)
          problems.push({ path: at('fields', p), name: true, message: `'${p}' is not a field of ${model.kind}` });
      }
      for (const [p, templates] of Object.entries(source.relations ?? {})) {
        if (!model.relations.some((r) => r.property === p)) {
          problems.push({ path: at('relations', p), name: true, message: `'${p}' is not a list of ${model.kind}` });
          continue;
        }
        templates.forEach((template, j) => entries(model, p, template, at('relations', p, j)));
      }
    }
    if (source.into) {
      const owner = catalog.kinds.get(mapping.sources.find((s) => sourceName(s) === source.into!.source)?.kind ?? '');
      if (!owner) return; // the owner source's own kind is reported where it is written
      const p = source.into.property;
      const column = owner.columns.find((c) => c.property === p);
      if (!owner.relations.some((r) => r.property === p) && !(column && column.type.name === 'jsonb'))
        problems.push({
          path: at('into', 'property'),
          message: `'${p}' is neither a list nor a JSONB field of ${owner.kind}`,
        });
      else if (!column) entries(owner, p, source.item ?? {}, at('item'));
    }
  });
  return problems;
}

function walk(
  node: unknown,
  visit: (node: Record<string, unknown>, path: (string | number)[]) => void,
  path: (string | number)[] = [],
) {
  if (Array.isArray(node)) node.forEach((n, i) => walk(n, visit, [...path, i]));
  else if (node && typeof node === 'object') {
    visit(node as Record<string, unknown>, path);
    for (const [k, v] of Object.entries(node)) walk(v, visit, [...path, k]);
  }
}

import { isMapping } from '../load/document.ts';
import type { Row } from '../resolve/graph.ts';
import type { FieldChange } from './model.ts';
import { sameValue } from './normalize.ts';
import { formatPath, type PathSegment } from './path.ts';
import type { KindShape, RelationShape, ShapeColumn } from './shape.ts';
import type { AssetState } from './state.ts';

/** Database id → the id an author wrote, for messages and plans. */
export type Labeler = (uuid: string) => string;

function authored(value: unknown, column: ShapeColumn, label: Labeler): unknown {
  if (!column.target || value === null) return value;
  return Array.isArray(value) ? value.map((v) => label(String(v))) : label(String(value));
}

const change = (segments: PathSegment[], before: unknown, after: unknown): FieldChange => ({
  path: formatPath(segments),
  segments,
  before,
  after,
});

/**
 * Field changes inside a JSON value: `model_config.temperature`, not the whole object. A key that is
 * absent on one side differs from a key holding null (jsonb stores both), so removing `{a: null}`
 * is a change of `a` too.
 */
function jsonChanges(path: PathSegment[], before: unknown, after: unknown, out: FieldChange[]) {
  if (sameValue(before, after)) return;
  if (isMapping(before) && isMapping(after)) {
    for (const key of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
      const inBefore = Object.hasOwn(before, key);
      const inAfter = Object.hasOwn(after, key);
      const b = inBefore ? before[key] : null;
      const a = inAfter ? after[key] : null;
      if (inBefore && inAfter) jsonChanges([...path, key], b, a, out);
      else if (b === null && a === null)
        out.push({ ...change([...path, key], b, a), absent: inBefore ? 'after' : 'before' });
      else out.push(change([...path, key], b, a));
    }
    return;
  }
  out.push(change(path, before, after));
}

function columnChanges(
  prefix: PathSegment[],
  columns: readonly ShapeColumn[],
  before: Row | undefined,
  after: Row | undefined,
  label: Labeler,
  out: FieldChange[],
) {
  for (const c of columns) {
    const b = before ? authored(before[c.column] ?? null, c, label) : null;
    const a = after ? authored(after[c.column] ?? null, c, label) : null;
    if (c.type.name === 'jsonb' && !c.type.array) jsonChanges([...prefix, c.property], b, a, out);
    else if (!sameValue(b, a)) out.push(change([...prefix, c.property], b, a));
  }
}

/** An entry of a relation as the author wrote it: `{prompt: literature-summary, usage: task}`. */
export function authoredEntry(rel: RelationShape, row: Row, label: Labeler): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keyFirst = [...rel.columns].sort(
    (a, b) => Number(!rel.keyColumns.includes(a.column)) - Number(!rel.keyColumns.includes(b.column)),
  );
  for (const c of keyFirst)
    if (row[c.column] !== null && row[c.column] !== undefined) out[c.property] = authored(row[c.column], c, label);
  return out;
}

const entryLabel = (rel: RelationShape, row: Row, label: Labeler) =>
  rel.keyColumns.map((k) => authored(row[k] ?? null, rel.columns.find((c) => c.column === k)!, label)).join(',');

/** Every difference between two states of one asset, field by field and entry by entry. */
export function fieldChanges(
  shape: KindShape,
  before: AssetState | undefined,
  after: AssetState | undefined,
  label: Labeler,
): FieldChange[] {
  const out: FieldChange[] = [];
  columnChanges([], shape.columns, before?.columns, after?.columns, label, out);
  for (const rel of shape.relations) {
    const b = before?.relations[rel.table] ?? {};
    const a = after?.relations[rel.table] ?? {};
    const entries = [...new Set([...Object.keys(b), ...Object.keys(a)])].map((key) => ({
      key,
      name: entryLabel(rel, (a[key] ?? b[key])!, label),
    }));
    for (const { key, name } of entries.sort((x, y) => x.name.localeCompare(y.name))) {
      const rb = b[key];
      const ra = a[key];
      const path: PathSegment[] = [rel.property, { entry: name }];
      if (!rb || !ra)
        out.push(change(path, rb ? authoredEntry(rel, rb, label) : null, ra ? authoredEntry(rel, ra, label) : null));
      else
        columnChanges(
          path,
          rel.columns.filter((c) => !rel.keyColumns.includes(c.column)),
          rb,
          ra,
          label,
          out,
        );
    }
  }
  return out;
}

import type { ColumnModel, KindCatalog, KindModel, RelationModel } from '../kinds/model.ts';
import { normalizeValue, stableJson } from '../plan/normalize.ts';
import type { Row } from '../resolve/graph.ts';
import type { ImportSource } from './read.ts';

export interface ImportFilter {
  /** Rows Canon already manages too (default: only rows it does not manage yet). */
  all: boolean;
  kinds?: string[];
  /** Tenant ids; `platform` selects assets without a tenant. */
  tenants?: string[];
}

/** One authored document and where import writes it. */
export interface ImportedDocument {
  /** `platform/agents.yaml` or `tenants/<tenant>/agents.yaml`, relative to the output folder. */
  file: string;
  id: string;
  value: Record<string, unknown>;
}

export interface ImportResult {
  documents: ImportedDocument[];
  /** Rows read but not written, with why (soft-deleted, managed, filtered out). */
  skipped: { kind: string; id: string; reason: string }[];
  /** References to rows that no longer exist: written as null would lose them silently, so they are listed. */
  dangling: { kind: string; id: string; property: string; uuid: string }[];
}

/**
 * Rows → authoring documents: the inverse of resolve. Keys in schema order, references as ids, relation
 * rows as the authoring format's lists (bare ids where the shorthand allows), `uuid` pinned so that
 * planning the output adopts the rows. Computed and audit columns (the database id, timestamps,
 * version, search vectors, embeddings) are not authored, so they are not written. Deterministic:
 * rows come sorted by id, relation entries sorted by their key.
 */
export function importDocuments(catalog: KindCatalog, source: ImportSource, filter: ImportFilter): ImportResult {
  const result: ImportResult = { documents: [], skipped: [], dangling: [] };
  for (const model of [...catalog.kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind))) {
    if (filter.kinds && !filter.kinds.includes(model.kind)) continue;
    for (const row of source.rows.get(model.kind) ?? []) {
      const uuid = String(row.id);
      const label = source.labels.get(uuid)!;
      const skip = (reason: string) => result.skipped.push({ kind: model.kind, id: label.id, reason });
      if (row.deleted_at !== null && row.deleted_at !== undefined) {
        skip('soft-deleted (deleted_at is set)');
        continue;
      }
      if (!filter.all && source.managed.has(uuid)) {
        skip('already managed by Canon (use --all)');
        continue;
      }
      if (filter.tenants && !filter.tenants.includes(label.tenant ?? 'platform')) continue;
      const value = documentOf(model, row, source, result, label.id);
      const folder = label.tenant === null ? 'platform' : `tenants/${label.tenant}`;
      result.documents.push({ file: `${folder}/${model.table}.yaml`, id: label.id, value });
    }
  }
  return result;
}

function documentOf(model: KindModel, row: Row, source: ImportSource, result: ImportResult, id: string) {
  const doc: Record<string, unknown> = { kind: model.kind, id };
  const reference = (uuid: unknown, property: string): string | null => {
    if (uuid === null || uuid === undefined) return null;
    const target = source.labels.get(String(uuid));
    if (!target) {
      result.dangling.push({ kind: model.kind, id, property, uuid: String(uuid) });
      return null;
    }
    return target.id;
  };
  for (const property of model.properties) {
    if (property === 'kind' || property === 'id') continue;
    if (property === 'uuid') {
      doc.uuid = String(row.id);
      continue;
    }
    const column = model.columns.find((c) => c.property === property);
    const ref = model.references.find((r) => r.property === property);
    const relation = model.relations.find((r) => r.property === property);
    if (column) setValue(doc, property, columnValue(column, row[column.column]), column.default);
    else if (ref && ref.many) {
      const ids = Array.isArray(row[ref.column])
        ? (row[ref.column] as unknown[]).map((u) => reference(u, property))
        : [];
      const present = ids.filter((i): i is string => i !== null);
      if (present.length > 0) doc[property] = present;
    } else if (ref) {
      const target = reference(row[ref.column], property);
      if (target !== null) doc[property] = target;
    } else if (relation) {
      const items = relationItems(relation, source.relations.get(relation.table)?.get(String(row.id)) ?? [], (u) =>
        reference(u, `${property}[]`),
      );
      if (items.length > 0) doc[property] = items;
    }
  }
  return doc;
}

function relationItems(relation: RelationModel, rows: Row[], reference: (uuid: unknown) => string | null) {
  const items = rows.map((row) => {
    const item: Record<string, unknown> = {};
    for (const ref of relation.references) {
      const target = reference(row[ref.column]);
      if (target !== null) item[ref.property] = target;
    }
    for (const column of relation.columns)
      setValue(item, column.property, columnValue(column, row[column.column]), column.default);
    return item;
  });
  const keyOf = (item: Record<string, unknown>) => stableJson(relation.key.map((k) => item[k] ?? null));
  items.sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
  return items.map((item) => {
    const keys = Object.keys(item);
    return relation.shorthand && keys.length === 1 && keys[0] === relation.shorthand ? item[relation.shorthand] : item;
  });
}

/** A column's value as authored: text exactly as stored, everything else in the plan's canonical form. */
function columnValue(column: ColumnModel, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (
    typeof value === 'string' &&
    (column.type.name === 'text' || column.type.name === 'varchar') &&
    !column.type.array
  )
    return value;
  return normalizeValue(value, column.type);
}

/** Absent means NULL or the schema default, so neither is written. */
function setValue(target: Record<string, unknown>, property: string, value: unknown, fallback: unknown) {
  if (value === null || (fallback !== undefined && value === fallback)) return;
  target[property] = value;
}

/** Documents grouped by output file, each file's documents sorted by id. */
export function filesOf(documents: ImportedDocument[]): Map<string, ImportedDocument[]> {
  const files = new Map<string, ImportedDocument[]>();
  for (const d of documents) {
    const list = files.get(d.file);
    if (list) list.push(d);
    else files.set(d.file, [d]);
  }
  for (const list of files.values()) list.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : 1)));
}

import type { ResolvedAsset, Row } from '../resolve/graph.ts';
import { normalizeValue, stableJsonList } from './normalize.ts';
import type { KindShape, ShapeColumn } from './shape.ts';

/**
 * An asset's content in canonical form, the unit the diff compares: the core row's columns and the
 * rows of each relation table keyed by their identity. Built the same way from the registry and
 * from the database.
 */
export interface AssetState {
  kind: string;
  uuid: string;
  id: string;
  tenant: string | null;
  columns: Row;
  /** table → entry key → row. */
  relations: Record<string, Record<string, Row>>;
}

function normalizeRow(row: Row, columns: readonly ShapeColumn[], fillDefaults: boolean): Row {
  const out: Row = {};
  for (const c of columns) {
    const raw = row[c.column];
    const value = normalizeValue(raw === undefined && fillDefaults ? c.default : raw, c.type);
    out[c.column] = c.set && Array.isArray(value) ? sortedSet(value) : value;
  }
  return out;
}

/** A set's items in one order (by their JSON text), whichever order the author or the database gave. */
const sortedSet = (items: unknown[]) =>
  items
    .map((v) => [JSON.stringify(v), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, v]) => v);

export const entryKey = (row: Row, keyColumns: readonly string[]) =>
  stableJsonList(keyColumns.map((k) => row[k] ?? null));

export function buildState(
  shape: KindShape,
  identity: { uuid: string; id: string; tenant: string | null },
  row: Row,
  relations: Record<string, Row[]>,
  fromRegistry: boolean,
): AssetState {
  const state: AssetState = {
    kind: shape.kind,
    ...identity,
    columns: normalizeRow(row, shape.columns, fromRegistry),
    relations: {},
  };
  for (const rel of shape.relations) {
    const entries: Record<string, Row> = {};
    for (const r of relations[rel.table] ?? []) {
      const normalized = normalizeRow(r, rel.columns, fromRegistry);
      entries[entryKey(normalized, rel.keyColumns)] = normalized;
    }
    state.relations[rel.table] = entries;
  }
  return state;
}

/** The registry's side: absent columns take their schema default, as an INSERT would give them. */
export const desiredState = (shape: KindShape, asset: ResolvedAsset): AssetState =>
  buildState(shape, { uuid: asset.uuid, id: asset.id, tenant: asset.tenant }, asset.row, asset.relations, true);

/**
 * A state's canonical text, cheaply: values are already canonical (normalizeValue sorts JSON keys) and
 * columns follow the shape's order, so only relation entries need sorting. Equal content, equal text.
 */
export function stateText(state: AssetState): string {
  const relations = Object.keys(state.relations)
    .sort()
    .map((table) => {
      const entries = state.relations[table]!;
      return [
        table,
        Object.keys(entries)
          .sort()
          .map((k) => [k, entries[k]]),
      ];
    });
  return JSON.stringify([state.columns, relations]);
}

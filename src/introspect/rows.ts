import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { LiveSchema } from '../migrate/live.ts';
import { parseExactJson } from '../plan/exact-json.ts';
import type { KindShape, ShapeColumn } from '../plan/shape.ts';
import { type AssetState, buildState } from '../plan/state.ts';
import type { Row } from '../resolve/graph.ts';

/** A row Canon manages, read back into the registry's shape. */
export interface LiveAsset {
  state: AssetState;
  table: string;
  version: number;
  deleted: boolean;
  /** The content hash apply recorded when it last wrote the asset (canon_managed_rows): differing content is drift. */
  recordedHash: string;
}

/** A row Canon does not manage that stands where a registry asset would go. */
export interface UnmanagedRow {
  table: string;
  uuid: string;
  uniqueId: string;
  tenantUuid: string | null;
  version: number;
}

export interface LiveRegistry {
  assets: Map<string, LiveAsset>;
  unmanaged: UnmanagedRow[];
}

/** A registry asset as introspection needs it: where it would go, to find unmanaged rows in its way. */
export interface WantedRow {
  table: string;
  uuid: string;
  id: string;
}

/**
 * The live rows read once for any registry to come (a plan session): every unmanaged row that
 * could stand in an asset's way, and the ids Canon manages per table, so the clashes for a
 * registry are found without asking the database again (`clashingRows`).
 */
export interface LiveSnapshot {
  assets: Map<string, LiveAsset>;
  /** Every row of a kind's table that Canon does not manage (its key columns only). */
  unmanagedRows: UnmanagedRow[];
  /** Table → the row ids canon_managed_rows lists, deleted rows included. */
  managedIds: Map<string, Set<string>>;
}

const managedRow = z.object({
  row_id: z.string(),
  asset_id: z.string(),
  tenant: z.string().nullable(),
  content_hash: z.string(),
});

/**
 * Stage "introspect": the live rows Canon manages (core tables, relation tables) in the shape the
 * resolver produces, plus unmanaged rows that clash with the registry's ids. Only columns the live
 * table has are read, so a plan can be made before pending schema changes are applied.
 */
export async function readLiveRegistry(
  db: CommonQueryMethods,
  shapes: Iterable<KindShape>,
  live: LiveSchema,
  wanted: WantedRow[],
): Promise<LiveRegistry> {
  const { assets, unmanagedRows } = await readLive(db, shapes, live, wanted);
  return { assets, unmanaged: unmanagedRows };
}

/** The managed rows and every unmanaged row's keys: what a plan session plans any later registry against. */
export const readLiveSnapshot = (db: CommonQueryMethods, shapes: Iterable<KindShape>, live: LiveSchema) =>
  readLive(db, shapes, live, 'all');

/** The unmanaged rows in the way of these assets: exactly those `readLiveRegistry` would have read for them. */
export function clashingRows(snapshot: LiveSnapshot, wanted: readonly WantedRow[]): UnmanagedRow[] {
  if (snapshot.unmanagedRows.length === 0) return [];
  const uuids = new Map<string, Set<string>>();
  const ids = new Map<string, Set<string>>();
  for (const w of wanted) {
    if (snapshot.managedIds.get(w.table)?.has(w.uuid)) continue;
    if (!uuids.has(w.table)) {
      uuids.set(w.table, new Set());
      ids.set(w.table, new Set());
    }
    uuids.get(w.table)!.add(w.uuid);
    ids.get(w.table)!.add(w.id);
  }
  return snapshot.unmanagedRows.filter((u) => uuids.get(u.table)?.has(u.uuid) || ids.get(u.table)?.has(u.uniqueId));
}

const isText = (c: ShapeColumn) => c.type.name === 'text' || c.type.name === 'varchar';

/**
 * jsonb is read as its text, so integers beyond 2^53 stay exact (pg's JSON.parse would round them).
 * Text is read as JSON: PGlite decodes each value with a TextDecoder, which drops a leading U+FEFF
 * (byte-order mark) that the column does hold; inside a JSON string it is not leading.
 */
function selected(c: ShapeColumn) {
  const name = sql.identifier([c.column]);
  if (c.type.name === 'jsonb' && !c.type.array) return sql.fragment`${name}::text AS ${name}`;
  if (isText(c)) return sql.fragment`to_json(${name})::text AS ${name}`;
  return name;
}

function readExactly(row: Row, columns: readonly ShapeColumn[]) {
  for (const c of columns) {
    const value = row[c.column];
    if (typeof value !== 'string') continue;
    if (c.type.name === 'jsonb' && !c.type.array) row[c.column] = parseExactJson(value);
    else if (isText(c)) row[c.column] = JSON.parse(value);
  }
}

async function readLive(
  db: CommonQueryMethods,
  shapes: Iterable<KindShape>,
  live: LiveSchema,
  wanted: WantedRow[] | 'all',
): Promise<LiveSnapshot> {
  const result: LiveSnapshot = { assets: new Map(), unmanagedRows: [], managedIds: new Map() };
  if (!live.tables.has('canon_managed_rows')) return result;
  for (const shape of shapes) {
    const table = live.tables.get(shape.table);
    if (!table) continue;
    const has = (c: string) => table.columns.has(c);
    const columns = shape.columns.filter((c) => has(c.column));
    const t = sql.identifier([shape.table]);
    const managed = new Map(
      (
        await db.any(
          sql.type(
            managedRow,
          )`SELECT row_id, asset_id, tenant, content_hash FROM canon_managed_rows WHERE table_name = ${shape.table}`,
        )
      ).map((m) => [m.row_id, m]),
    );
    result.managedIds.set(shape.table, new Set(managed.keys()));
    const rows =
      managed.size === 0
        ? []
        : await db.any(sql.unsafe`
      SELECT id, version, deleted_at IS NOT NULL AS deleted ${
        columns.length ? sql.fragment`, ${sql.join(columns.map(selected), sql.fragment`, `)}` : sql.fragment``
      }
      FROM ${t} WHERE id IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
    const relationRows = new Map<string, Map<string, Row[]>>();
    for (const rel of shape.relations) {
      const relTable = live.tables.get(rel.table);
      const byOwner = new Map<string, Row[]>();
      relationRows.set(rel.table, byOwner);
      if (!relTable || managed.size === 0) continue;
      const relColumns = rel.columns.filter((c) => relTable.columns.has(c.column));
      const found = await db.any(sql.unsafe`
        SELECT ${sql.identifier([rel.ownerColumn])} AS canon_owner ${
          relColumns.length ? sql.fragment`, ${sql.join(relColumns.map(selected), sql.fragment`, `)}` : sql.fragment``
        }
        FROM ${sql.identifier([rel.table])}
        WHERE ${sql.identifier([rel.ownerColumn])} IN (
          SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
      for (const r of found as Row[]) {
        readExactly(r, relColumns);
        const owner = String(r.canon_owner);
        const list = byOwner.get(owner);
        if (list) list.push(r);
        else byOwner.set(owner, [r]);
      }
    }
    for (const r of rows as Row[]) {
      readExactly(r, columns);
      const uuid = String(r.id);
      const m = managed.get(uuid)!;
      const relations = Object.fromEntries([...relationRows].map(([rel, byOwner]) => [rel, byOwner.get(uuid) ?? []]));
      result.assets.set(uuid, {
        state: buildState(shape, { uuid, id: m.asset_id, tenant: m.tenant }, r, relations, false),
        table: shape.table,
        version: Number(r.version),
        deleted: r.deleted === true,
        recordedHash: m.content_hash,
      });
    }
    if (!has('unique_id')) continue;
    const tenantColumn = has('tenant_id') ? sql.fragment`tenant_id` : sql.fragment`NULL::uuid`;
    const versionColumn = has('version') ? sql.fragment`version` : sql.fragment`0`;
    const unmanagedRow = z.object({
      id: z.string(),
      unique_id: z.string(),
      tenant_id: z.string().nullable(),
      version: z.number(),
    });
    let clashes: readonly z.infer<typeof unmanagedRow>[];
    if (wanted === 'all') {
      clashes = await db.any(sql.type(unmanagedRow)`
        SELECT id, unique_id, ${tenantColumn} AS tenant_id, ${versionColumn} AS version FROM ${t}
        WHERE id NOT IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
    } else {
      const candidates = wanted.filter((w) => w.table === shape.table && !managed.has(w.uuid));
      if (candidates.length === 0) continue;
      clashes = await db.any(sql.type(unmanagedRow)`
        SELECT id, unique_id, ${tenantColumn} AS tenant_id, ${versionColumn} AS version FROM ${t}
        WHERE (id = ANY(${sql.array(
          candidates.map((c) => c.uuid),
          'uuid',
        )}) OR unique_id = ANY(${sql.array(
          candidates.map((c) => c.id),
          'text',
        )}))
          AND id NOT IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
    }
    for (const c of clashes) {
      const { id: uuid, unique_id: uniqueId, tenant_id: tenantUuid, version } = c;
      const row = { table: shape.table, uuid, uniqueId, tenantUuid, version };
      result.unmanagedRows.push(row);
    }
  }
  return result;
}

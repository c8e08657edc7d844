import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { LiveSchema } from '../migrate/live.ts';
import type { Row } from '../resolve/graph.ts';
import { buildState, type AssetState } from '../plan/state.ts';
import type { KindShape } from '../plan/shape.ts';

/** A row Canon manages, read back into the registry's shape. */
export interface LiveAsset {
  state: AssetState;
  table: string;
  version: number;
  deleted: boolean;
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

const managedRow = z.object({ row_id: z.string(), asset_id: z.string(), tenant: z.string().nullable() });

/**
 * Stage "introspect": the live rows Canon manages (core tables, relation tables) in the shape the
 * resolver produces, plus unmanaged rows that clash with the registry's ids. Only columns the live
 * table has are read, so a plan can be made before pending schema changes are applied.
 */
export async function readLiveRegistry(db: CommonQueryMethods, shapes: Iterable<KindShape>, live: LiveSchema, wanted: { table: string; uuid: string; id: string }[]): Promise<LiveRegistry> {
  const result: LiveRegistry = { assets: new Map(), unmanaged: [] };
  if (!live.tables.has('canon_managed_rows')) return result;
  for (const shape of shapes) {
    const table = live.tables.get(shape.table);
    if (!table) continue;
    const has = (c: string) => table.columns.has(c);
    const columns = shape.columns.map((c) => c.column).filter(has);
    const t = sql.identifier([shape.table]);
    const managed = new Map((await db.any(sql.type(managedRow)`SELECT row_id, asset_id, tenant FROM canon_managed_rows WHERE table_name = ${shape.table}`)).map((m) => [m.row_id, m]));
    const rows = managed.size === 0 ? [] : await db.any(sql.unsafe`
      SELECT id, version, deleted_at IS NOT NULL AS deleted ${columns.length ? sql.fragment`, ${sql.join(columns.map((c) => sql.identifier([c])), sql.fragment`, `)}` : sql.fragment``}
      FROM ${t} WHERE id IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
    const relationRows = new Map<string, Map<string, Row[]>>();
    for (const rel of shape.relations) {
      const relTable = live.tables.get(rel.table);
      const byOwner = new Map<string, Row[]>();
      relationRows.set(rel.table, byOwner);
      if (!relTable || managed.size === 0) continue;
      const relColumns = rel.columns.map((c) => c.column).filter((c) => relTable.columns.has(c));
      const found = await db.any(sql.unsafe`
        SELECT ${sql.identifier([rel.ownerColumn])} AS canon_owner ${relColumns.length ? sql.fragment`, ${sql.join(relColumns.map((c) => sql.identifier([c])), sql.fragment`, `)}` : sql.fragment``}
        FROM ${sql.identifier([rel.table])}
        WHERE ${sql.identifier([rel.ownerColumn])} IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
      for (const r of found as Row[]) {
        const owner = String(r.canon_owner);
        byOwner.set(owner, [...(byOwner.get(owner) ?? []), r]);
      }
    }
    for (const r of rows as Row[]) {
      const uuid = String(r.id);
      const m = managed.get(uuid)!;
      const relations = Object.fromEntries([...relationRows].map(([rel, byOwner]) => [rel, byOwner.get(uuid) ?? []]));
      result.assets.set(uuid, {
        state: buildState(shape, { uuid, id: m.asset_id, tenant: m.tenant }, r, relations, false),
        table: shape.table,
        version: Number(r.version),
        deleted: r.deleted === true,
      });
    }
    const candidates = wanted.filter((w) => w.table === shape.table && !managed.has(w.uuid));
    if (candidates.length > 0 && has('unique_id')) {
      const tenantColumn = has('tenant_id') ? sql.fragment`tenant_id` : sql.fragment`NULL::uuid`;
      const clashes = await db.any(sql.type(z.object({ id: z.string(), unique_id: z.string(), tenant_id: z.string().nullable(), version: z.number() }))`
        SELECT id, unique_id, ${tenantColumn} AS tenant_id, ${has('version') ? sql.fragment`version` : sql.fragment`0`} AS version FROM ${t}
        WHERE (id = ANY(${sql.array(candidates.map((c) => c.uuid), 'uuid')}) OR unique_id = ANY(${sql.array(candidates.map((c) => c.id), 'text')}))
          AND id NOT IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${shape.table})`);
      for (const c of clashes) result.unmanaged.push({ table: shape.table, uuid: c.id, uniqueId: c.unique_id, tenantUuid: c.tenant_id, version: c.version });
    }
  }
  return result;
}

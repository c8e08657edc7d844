import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Database } from '../db/open.ts';
import { sql } from '../db/sql.ts';
import type { KindCatalog, KindModel } from '../kinds/model.ts';
import { parseExactJson } from '../plan/exact-json.ts';
import type { Row } from '../resolve/graph.ts';

/** What import reads: every asset row of Canon's tables, with its relation rows, and who manages it. */
export interface ImportSource {
  /** Per kind, the core rows (every column), ordered by id. */
  rows: Map<string, Row[]>;
  /** Per relation table, its rows by owner uuid. */
  relations: Map<string, Map<string, Row[]>>;
  /** Every asset's uuid → its kind and id, for writing references as ids. */
  labels: Map<string, { kind: string; id: string; tenant: string | null }>;
  /** Uuids of rows Canon already manages (from canon_managed_rows). */
  managed: Set<string>;
}

const exists = z.object({ e: z.boolean() });

async function tableExists(db: CommonQueryMethods, schema: string, table: string): Promise<boolean> {
  return db.oneFirst(sql.type(exists)`
    SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p')) AS e`);
}

const idColumnOf = (model: KindModel) => model.columns.find((c) => c.property === 'id')!.column;
const tenantColumnOf = (model: KindModel) => model.references.find((r) => r.property === 'tenant')?.column;

/**
 * Canon's tables as `canon import` reads them, in one READ ONLY transaction: one consistent snapshot, and
 * the database read can never be written.
 */
export function readImportSnapshot(db: Database, catalog: KindCatalog): Promise<ImportSource> {
  return db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION READ ONLY`);
    return readImportSource(tx, catalog, db.schema);
  });
}

const wholeRow = z.object({ row: z.string() });

/**
 * A row read whole as its JSON text, the way plan reads values exactly: jsonb integers beyond 2^53 stay
 * exact (as the plan's markers), and text keeps a leading U+FEFF that PGlite's decoder would drop.
 */
const readRow = (text: string) => parseExactJson(text) as Row;

/**
 * Stage "import", reading: one query per table (set-based), in the caller's transaction, which
 * should be READ ONLY. Tables the database lacks are read as empty.
 */
export async function readImportSource(
  db: CommonQueryMethods,
  catalog: KindCatalog,
  schema: string,
): Promise<ImportSource> {
  const source: ImportSource = { rows: new Map(), relations: new Map(), labels: new Map(), managed: new Set() };
  const models = [...catalog.kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind));
  for (const model of models) {
    if (!(await tableExists(db, schema, model.table))) {
      source.rows.set(model.kind, []);
      continue;
    }
    const idColumn = sql.identifier([idColumnOf(model)]);
    const rows = await db.anyFirst(sql.type(wholeRow)`
      SELECT to_jsonb(t)::text AS row FROM ${sql.identifier([model.table])} AS t ORDER BY ${idColumn}, id`);
    source.rows.set(model.kind, rows.map(readRow));
  }
  const tenantKind = catalog.tenantKind?.kind;
  const tenantIds = new Map(
    (source.rows.get(tenantKind ?? '') ?? []).map((r) => [
      String(r.id),
      String(r[idColumnOf(catalog.kinds.get(tenantKind!)!)]),
    ]),
  );
  for (const model of models) {
    const tenantColumn = tenantColumnOf(model);
    for (const row of source.rows.get(model.kind)!) {
      const tenant = tenantColumn && row[tenantColumn] ? (tenantIds.get(String(row[tenantColumn])) ?? null) : null;
      source.labels.set(String(row.id), { kind: model.kind, id: String(row[idColumnOf(model)]), tenant });
    }
    for (const relation of model.relations) {
      if (source.relations.has(relation.table) || !(await tableExists(db, schema, relation.table))) continue;
      const rows = (
        await db.anyFirst(sql.type(wholeRow)`
          SELECT to_jsonb(t)::text AS row FROM ${sql.identifier([relation.table])} AS t`)
      ).map(readRow);
      const byOwner = new Map<string, Row[]>();
      for (const row of rows) {
        const owner = String(row[relation.ownerColumn]);
        const list = byOwner.get(owner);
        if (list) list.push(row);
        else byOwner.set(owner, [row]);
      }
      source.relations.set(relation.table, byOwner);
    }
  }
  if (await tableExists(db, schema, 'canon_managed_rows')) {
    const managed = await db.anyFirst(
      sql.type(z.object({ row_id: z.string() }))`SELECT row_id FROM canon_managed_rows`,
    );
    for (const id of managed) source.managed.add(id);
  }
  return source;
}

import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { KindCatalog, KindModel } from '../kinds/model.ts';
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
    const rows = (await db.any(
      sql.unsafe`SELECT * FROM ${sql.identifier([model.table])} ORDER BY ${idColumn}, id`,
    )) as Row[];
    source.rows.set(model.kind, rows);
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
      const rows = (await db.any(sql.unsafe`SELECT * FROM ${sql.identifier([relation.table])}`)) as Row[];
      const byOwner = new Map<string, Row[]>();
      for (const row of rows) {
        const owner = String(row[relation.ownerColumn]);
        byOwner.set(owner, [...(byOwner.get(owner) ?? []), row]);
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

import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { DatabaseError } from '../../db/database-error.ts';
import type { Database } from '../../db/open.ts';
import { sql } from '../../db/sql.ts';
import type { Row } from '../../resolve/graph.ts';
import type { LegacyRows } from './build.ts';
import { type LegacyMapping, type SourceMapping, sourceName } from './mapping.ts';

const count = z.object({ n: z.coerce.number() });
const exists = z.object({ e: z.boolean() });

/** A mapping's `query`, as slonik takes text it did not build: it only ever runs in a read-only transaction. */
const rawQuery = (text: string) =>
  sql.fragment(Object.freeze(Object.assign([text], { raw: Object.freeze([text]) })) as unknown as TemplateStringsArray);

const byKey = (key: string) => (a: Row, b: Row) =>
  String(a[key] ?? '').localeCompare(String(b[key] ?? ''), 'en', { numeric: true });

/**
 * Reads every source of the mapping in one REPEATABLE READ, READ ONLY transaction: one snapshot for the
 * rows and for the counts the reconciliation checks them against, and no way to write the source. A
 * table the source lacks is read as empty and reported.
 */
export async function readLegacy(
  db: Database,
  mapping: LegacyMapping,
  schema: string,
): Promise<LegacyRows & { missing: string[] }> {
  return readAll(db, mapping, schema).catch((e: unknown) => {
    // A query of the mapping that fails (one that tries to write, a missing column) is the mapping's
    // problem, said in one line; the transaction is rolled back and the source is as it was.
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw new DatabaseError(`reading the legacy database failed: ${cause}; nothing was written`);
  });
}

function readAll(db: Database, mapping: LegacyMapping, schema: string): Promise<LegacyRows & { missing: string[] }> {
  return db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY`);
    const out: LegacyRows & { missing: string[] } = { rows: new Map(), counted: new Map(), missing: [] };
    for (const source of mapping.sources) {
      const name = sourceName(source);
      if (source.table && !(await tableExists(tx, schema, source.table))) {
        out.missing.push(source.table);
        out.rows.set(name, []);
        out.counted.set(name, 0);
        continue;
      }
      const from = fromOf(source, schema);
      const rows = [...((await tx.any(sql.unsafe`SELECT * FROM ${from}`)) as Row[])].sort(byKey(source.key ?? 'id'));
      out.rows.set(name, rows);
      out.counted.set(name, Number(await tx.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM ${from}`)));
    }
    return out;
  });
}

function fromOf(source: SourceMapping, schema: string) {
  if (source.table) return sql.identifier([schema, source.table]);
  return sql.fragment`(${rawQuery(source.query!)}) AS legacy_query`;
}

async function tableExists(db: CommonQueryMethods, schema: string, table: string): Promise<boolean> {
  return db.oneFirst(sql.type(exists)`
    SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relname = ${table} AND c.relkind IN ('r', 'p', 'v', 'm', 'f')) AS e`);
}

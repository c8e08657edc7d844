import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { managedRecord, versionRecord } from '../../src/compile/compile.ts';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { Plan } from '../../src/plan/model.ts';
import type { KindShape } from '../../src/plan/shape.ts';
import type { Row } from '../../src/resolve/graph.ts';

export interface TableRows {
  rows: Row[];
  /** JSONB columns: written as JSON even when the value is a list. */
  jsonb: Set<string>;
  uuidArrays: Set<string>;
  /** The conflict key of the per-row upsert. */
  key: string[];
}

/** The rows a fresh apply writes (core and relation tables), for the reference loaders. */
export function rowsOf(plan: Plan, shapes: ReadonlyMap<string, KindShape>): Map<string, TableRows> {
  const tables = new Map<string, TableRows>();
  const push = (table: string, columns: KindShape['columns'], key: string[], row: Row) => {
    const entry = tables.get(table) ?? {
      rows: [],
      jsonb: jsonbOf(columns),
      uuidArrays: new Set(columns.filter((c) => c.type.name === 'uuid' && c.type.array).map((c) => c.column)),
      key,
    };
    entry.rows.push(row);
    tables.set(table, entry);
  };
  const jsonbOf = (columns: KindShape['columns']) =>
    new Set(columns.filter((c) => c.type.name === 'jsonb').map((c) => c.column));
  for (const c of plan.changes) {
    if (!c.after) continue;
    const shape = shapes.get(c.kind)!;
    push(shape.table, shape.columns, ['id'], { id: c.uuid, version: c.version, ...c.after.columns });
    for (const rel of shape.relations) {
      for (const row of Object.values(c.after.relations[rel.table] ?? {}))
        push(rel.table, rel.columns, [rel.ownerColumn, ...rel.keyColumns], { [rel.ownerColumn]: c.uuid, ...row });
    }
  }
  return tables;
}

/**
 * The bookkeeping rows a fresh apply writes beside them: one entity_versions row (the asset's content)
 * and one canon_managed_rows row (its content hash) per asset. COPY of these too is what "the same
 * rows" means for apply, which writes both in the same transaction.
 */
export function bookkeepingRowsOf(plan: Plan): Map<string, TableRows> {
  const written = plan.changes.filter((c) => c.after);
  // No apply record to point at: the reference writes no canon_applies row (apply_id may be NULL).
  const versions = written.map((c) => versionRecord(c, null));
  const managed = written.map((c) => managedRecord(c, null));
  const none = new Set<string>();
  return new Map([
    ['entity_versions', { rows: versions, jsonb: new Set(['data']), uuidArrays: none, key: ['entity_id', 'version'] }],
    ['canon_managed_rows', { rows: managed, jsonb: none, uuidArrays: none, key: ['table_name', 'row_id'] }],
  ]);
}

// COPY cannot go through slonik's sql tag; these references are benchmark code, and every
// identifier comes from Canon's own catalog, quoted here.
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

const csvField = (v: unknown, json: boolean): string => {
  if (v === null || v === undefined) return '';
  let text: string;
  if (json) text = JSON.stringify(v);
  else if (Array.isArray(v))
    text = `{${v.map((x) => `"${String(x).replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`).join(',')}}`;
  else if (typeof v === 'object') text = JSON.stringify(v);
  else text = String(v);
  return `"${text.replace(/"/g, '""')}"`;
};

function csv(t: TableRows, columns: string[]): string {
  return t.rows.map((r) => columns.map((c) => csvField(r[c], t.jsonb.has(c))).join(',')).join('\n') + '\n';
}

/**
 * The physical limit: COPY of the same rows into the same tables. Array-typed JSONB columns are
 * written as JSON, text[] as array literals, so the data is what apply writes.
 */
export async function copyReferencePglite(pglite: PGlite, tables: Map<string, TableRows>): Promise<void> {
  await pglite.query('BEGIN');
  await pglite.query('SET CONSTRAINTS ALL DEFERRED');
  for (const [table, t] of tables) {
    const columns = Object.keys(t.rows[0]!);
    const blob = new Blob([csv(t, columns)]);
    await pglite.query(
      `COPY ${quote(table)} (${columns.map(quote).join(', ')}) FROM '/dev/blob' WITH (FORMAT csv)`,
      [],
      { blob },
    );
  }
  await pglite.query('COMMIT');
}

export async function copyReferenceServer(url: string, tables: Map<string, TableRows>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('SET CONSTRAINTS ALL DEFERRED');
    for (const [table, t] of tables) {
      const columns = Object.keys(t.rows[0]!);
      const stream = client.query(
        copyFrom(`COPY ${quote(table)} (${columns.map(quote).join(', ')}) FROM STDIN WITH (FORMAT csv)`),
      );
      await pipeline(Readable.from([csv(t, columns)]), stream);
    }
    await client.query('COMMIT');
  } finally {
    await client.end();
  }
}

/** The naive peer: one INSERT … ON CONFLICT statement per row, in one transaction. */
export async function perRowReference(db: Database, tables: Map<string, TableRows>): Promise<void> {
  await db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SET CONSTRAINTS ALL DEFERRED`);
    for (const [table, t] of tables) {
      const key = t.key;
      for (const row of t.rows) {
        const columns = Object.keys(row);
        const values = columns.map((c) => {
          const v = row[c];
          if (v === null || v === undefined) return null;
          if (t.jsonb.has(c)) return sql.jsonb(v as never);
          if (Array.isArray(v)) return sql.array(v as string[], t.uuidArrays.has(c) ? 'uuid' : 'text');
          return v as string | number | boolean;
        });
        const update = columns.filter((c) => !key.includes(c));
        await tx.query(sql.unsafe`INSERT INTO ${sql.identifier([table])} (${sql.join(
          columns.map((c) => sql.identifier([c])),
          sql.fragment`, `,
        )})
          VALUES (${sql.join(values, sql.fragment`, `)})
          ON CONFLICT (${sql.join(
            key.map((c) => sql.identifier([c])),
            sql.fragment`, `,
          )}) DO UPDATE SET ${sql.join(
            update.map((c) => sql.fragment`${sql.identifier([c])} = EXCLUDED.${sql.identifier([c])}`),
            sql.fragment`, `,
          )}`);
      }
    }
  });
}

import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import { parseSqlType, type SqlType } from '../kinds/sql-type.ts';

/** What the live catalog holds, in Canon's schema: the shape the diff compares with DesiredSchema. */
export interface LiveColumn {
  name: string;
  formattedType: string;
  type: SqlType | undefined;
  notNull: boolean;
  defaultText: string | null;
  generated: boolean;
  comment: string | null;
}

export interface LiveSchema {
  /** The schema read (Canon's), and whether it exists yet: a first migration creates it. */
  schema: { name: string; exists: boolean };
  extensions: Set<string>;
  availableExtensions: Set<string>;
  tables: Map<string, { comment: string | null; columns: Map<string, LiveColumn> }>;
  /** Constraints by name: their table and comment. */
  constraints: Map<string, { table: string; comment: string | null }>;
  /** Indexes that do not back a constraint, by name. */
  indexes: Map<string, { table: string; comment: string | null }>;
  views: Map<string, { comment: string | null }>;
}

/** `character varying(100)` → varchar(100) …: format_type() spelling back to Canon's grammar. */
export function parseFormattedType(text: string): SqlType | undefined {
  const normalized = text
    .replace(/^character varying/, 'varchar')
    .replace(/^timestamp with time zone/, 'timestamptz')
    .replace(/\s+/g, '');
  return parseSqlType(normalized);
}

export async function introspect(pool: CommonQueryMethods, schema: string): Promise<LiveSchema> {
  const exists = await pool.oneFirst(
    sql.type(z.object({ e: z.boolean() }))`SELECT to_regnamespace(${schema}) IS NOT NULL AS e`,
  );
  const tables = await pool.any(sql.type(z.object({ name: z.string(), comment: z.string().nullable() }))`
    SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p')`);
  const columns = await pool.any(sql.type(
    z.object({
      table: z.string(),
      name: z.string(),
      type: z.string(),
      not_null: z.boolean(),
      default_text: z.string().nullable(),
      generated: z.string(),
      comment: z.string().nullable(),
    }),
  )`
    SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS not_null,
           CASE WHEN a.attgenerated = '' THEN pg_get_expr(d.adbin, d.adrelid) END AS default_text,
           a.attgenerated::text AS generated,
           col_description(c.oid, a.attnum) AS comment
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum`);
  const constraints = await pool.any(sql.type(
    z.object({ name: z.string(), table: z.string(), comment: z.string().nullable() }),
  )`
    SELECT con.conname AS name, c.relname AS table, obj_description(con.oid, 'pg_constraint') AS comment
    FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND con.contype IN ('u', 'f', 'c', 'p')`);
  const indexes = await pool.any(sql.type(
    z.object({ name: z.string(), table: z.string(), comment: z.string().nullable() }),
  )`
    SELECT ic.relname AS name, c.relname AS table, obj_description(ic.oid, 'pg_class') AS comment
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    JOIN pg_class c ON c.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_constraint con
                      WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)`);
  const views = await pool.any(sql.type(z.object({ name: z.string(), comment: z.string().nullable() }))`
    SELECT c.relname AS name, obj_description(c.oid, 'pg_class') AS comment
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind = 'm'`);
  const extensions = await pool.anyFirst(sql.type(z.object({ extname: z.string() }))`SELECT extname FROM pg_extension`);
  const available = await pool.anyFirst(
    sql.type(z.object({ name: z.string() }))`SELECT name FROM pg_available_extensions`,
  );

  const live: LiveSchema = {
    schema: { name: schema, exists },
    extensions: new Set(extensions),
    availableExtensions: new Set(available),
    tables: new Map(tables.map((t) => [t.name, { comment: t.comment, columns: new Map() }])),
    constraints: new Map(constraints.map((c) => [c.name, { table: c.table, comment: c.comment }])),
    indexes: new Map(indexes.map((i) => [i.name, { table: i.table, comment: i.comment }])),
    views: new Map(views.map((v) => [v.name, { comment: v.comment }])),
  };
  for (const c of columns) {
    live.tables.get(c.table)?.columns.set(c.name, {
      name: c.name,
      formattedType: c.type,
      type: parseFormattedType(c.type),
      notNull: c.not_null,
      defaultText: c.default_text,
      generated: c.generated !== '',
      comment: c.comment,
    });
  }
  return live;
}

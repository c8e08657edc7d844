import type { SqlToken } from 'slonik';

/** Any composable piece of SQL: a fragment, an identifier, a list … */
export type Fragment = ReturnType<typeof sql.fragment> | SqlToken;

import { sql } from '../db/sql.ts';
import type { SqlType } from '../kinds/sql-type.ts';
import type {
  CheckSpec,
  ColumnSpec,
  ConstraintSpec,
  CountsViewSpec,
  DefaultSpec,
  IndexSpec,
  OnDelete,
} from './model.ts';

/**
 * DDL cannot take bind parameters, and slonik accepts SQL text only from template literals. Type
 * modifiers such as varchar(100) are therefore written digit by digit from literal fragments: every
 * byte of every statement still comes from a template literal, an identifier or an escaped literal.
 */
const digits = [
  sql.fragment`0`,
  sql.fragment`1`,
  sql.fragment`2`,
  sql.fragment`3`,
  sql.fragment`4`,
  sql.fragment`5`,
  sql.fragment`6`,
  sql.fragment`7`,
  sql.fragment`8`,
  sql.fragment`9`,
];

export function integerLiteral(n: number): Fragment {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`not a non-negative integer: ${n}`);
  return sql.join(
    [...String(n)].map((d) => digits[Number(d)]!),
    sql.fragment``,
  );
}

export const id = (name: string) => sql.identifier([name]);
export const ids = (names: readonly string[]) => sql.join(names.map(id), sql.fragment`, `);

const baseTypes: Record<SqlType['name'], (t: SqlType) => Fragment> = {
  varchar: (t) => sql.fragment`varchar(${integerLiteral((t as { length: number }).length)})`,
  numeric: (t) => {
    const { precision, scale } = t as { precision: number; scale: number };
    return sql.fragment`numeric(${integerLiteral(precision)}, ${integerLiteral(scale)})`;
  },
  vector: (t) => sql.fragment`vector(${integerLiteral((t as { dimensions: number }).dimensions)})`,
  text: () => sql.fragment`text`,
  jsonb: () => sql.fragment`jsonb`,
  boolean: () => sql.fragment`boolean`,
  integer: () => sql.fragment`integer`,
  bigint: () => sql.fragment`bigint`,
  date: () => sql.fragment`date`,
  uuid: () => sql.fragment`uuid`,
  timestamptz: () => sql.fragment`timestamptz`,
  tsvector: () => sql.fragment`tsvector`,
};

export const typeSql = (type: SqlType) =>
  type.array ? sql.fragment`${baseTypes[type.name](type)}[]` : baseTypes[type.name](type);

const defaults: { [K in DefaultSpec['kind']]: (d: Extract<DefaultSpec, { kind: K }>) => Fragment } = {
  boolean: (d) => (d.value ? sql.fragment`true` : sql.fragment`false`),
  integer: (d) => integerLiteral(d.value),
  now: () => sql.fragment`now()`,
  randomUuid: () => sql.fragment`gen_random_uuid()`,
};

export const defaultSql = (d: DefaultSpec) => (defaults[d.kind] as (d: DefaultSpec) => Fragment)(d);

/**
 * `to_tsvector('english', coalesce(a, '') || ' ' || coalesce(b, ''))`: immutable, so it can be a stored
 * generated column.
 */
export function searchExpression(columns: readonly string[]): Fragment {
  const parts = columns.map((c) => sql.fragment`coalesce(${id(c)}::text, '')`);
  return sql.fragment`to_tsvector('english'::regconfig, ${sql.join(parts, sql.fragment` || ' ' || `)})`;
}

export function columnDefinition(c: ColumnSpec): Fragment {
  if (c.searchOf)
    return sql.fragment`${id(c.name)} tsvector GENERATED ALWAYS AS (${searchExpression(c.searchOf)}) STORED`;
  const notNull = c.notNull ? sql.fragment` NOT NULL` : sql.fragment``;
  const dflt = c.default ? sql.fragment` DEFAULT ${defaultSql(c.default)}` : sql.fragment``;
  return sql.fragment`${id(c.name)} ${typeSql(c.type)}${notNull}${dflt}`;
}

const onDeleteSql: Record<OnDelete, Fragment> = {
  cascade: sql.fragment`ON DELETE CASCADE`,
  'set null': sql.fragment`ON DELETE SET NULL`,
  restrict: sql.fragment`ON DELETE RESTRICT`,
};

const checks: { [K in CheckSpec['kind']]: (c: Extract<CheckSpec, { kind: K }>) => Fragment } = {
  in: (c) =>
    sql.fragment`CHECK (${id(c.column)} IN (${sql.join(
      c.values.map((v) => sql.literalValue(v)),
      sql.fragment`, `,
    )}))`,
  nonEmpty: (c) => sql.fragment`CHECK (length(${id(c.column)}) > 0)`,
};

export function constraintDefinition(c: ConstraintSpec): Fragment {
  switch (c.kind) {
    case 'unique':
      return c.nullsNotDistinct
        ? sql.fragment`UNIQUE NULLS NOT DISTINCT (${ids(c.columns)})`
        : sql.fragment`UNIQUE (${ids(c.columns)})`;
    case 'foreignKey': {
      // Deferrable, so apply can write a whole registry in any order and have references checked at commit.
      const columns = ids(c.columns);
      const target = sql.fragment`${id(c.refTable)} (${ids(c.refColumns)})`;
      const onDelete = onDeleteSql[c.onDelete];
      return sql.fragment`FOREIGN KEY (${columns}) REFERENCES ${target} ${onDelete} DEFERRABLE INITIALLY IMMEDIATE`;
    }
    case 'check':
      return (checks[c.check.kind] as (x: CheckSpec) => Fragment)(c.check);
  }
}

const methods: Record<IndexSpec['method'], Fragment> = {
  btree: sql.fragment`btree`,
  gin: sql.fragment`gin`,
  hnsw: sql.fragment`hnsw`,
};

export function createIndexStatement(i: IndexSpec): Fragment {
  const unique = i.unique ? sql.fragment`UNIQUE ` : sql.fragment``;
  const columns = sql.join(
    i.columns.map((c) =>
      c.opclass === 'vector_cosine_ops' ? sql.fragment`${id(c.column)} vector_cosine_ops` : id(c.column),
    ),
    sql.fragment`, `,
  );
  const nulls = i.nullsNotDistinct ? sql.fragment` NULLS NOT DISTINCT` : sql.fragment``;
  const where = !i.where
    ? sql.fragment``
    : i.where.kind === 'isNull'
      ? sql.fragment` WHERE ${id(i.where.column)} IS NULL`
      : sql.fragment` WHERE ${id(i.where.column)} IS NOT NULL`;
  const name = id(i.name);
  const table = id(i.table);
  const method = methods[i.method];
  return sql.fragment`CREATE ${unique}INDEX ${name} ON ${table} USING ${method} (${columns})${nulls}${where}`;
}

/** The seed's persona_analytics, with one scalar subquery per count instead of joins that multiply rows. */
export function createViewStatement(view: CountsViewSpec): Fragment {
  const counts = view.counts.map(
    (c) => sql.fragment`(SELECT count(*)::int FROM ${id(c.table)} r WHERE r.${id(c.column)} = b.id) AS ${id(c.alias)}`,
  );
  const select = counts.length ? sql.fragment`, ${sql.join(counts, sql.fragment`, `)}` : sql.fragment``;
  const name = id(view.name);
  const base = id(view.base.table);
  const columns = sql.fragment`b.id, b.${id(view.base.label)} AS name${select}`;
  return sql.fragment`CREATE MATERIALIZED VIEW ${name} AS SELECT ${columns} FROM ${base} b WHERE b.deleted_at IS NULL`;
}

/** A fragment's SQL text (DDL fragments carry no bind values). */
export const sqlText = (fragment: Fragment) => sql.unsafe`${fragment}`.sql;

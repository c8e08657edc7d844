/**
 * The SQL column types Canon understands: a closed grammar, so a type written in a schema can be
 * checked when the catalog loads and emitted without ever pasting schema text into SQL.
 */
export type SqlType =
  | { name: 'varchar'; length: number; array?: boolean }
  | { name: 'numeric'; precision: number; scale: number; array?: boolean }
  | { name: 'vector'; dimensions: number; array?: boolean }
  | {
      name: 'text' | 'jsonb' | 'boolean' | 'integer' | 'bigint' | 'date' | 'uuid' | 'timestamptz' | 'tsvector';
      array?: boolean;
    };

const simple = new Set(['text', 'jsonb', 'boolean', 'integer', 'bigint', 'date', 'uuid', 'timestamptz', 'tsvector']);

/** Parses `varchar(100)`, `numeric(5,2)`, `text[]` …; undefined when the text is not in the grammar. */
export function parseSqlType(text: string): SqlType | undefined {
  const match = /^([a-z]+)(?:\((\d+)(?:,\s*(\d+))?\))?(\[\])?$/.exec(text.trim().toLowerCase());
  if (!match) return undefined;
  const [, name, a, b, brackets] = match;
  const array = brackets ? { array: true } : {};
  const n = (s: string | undefined) => (s === undefined ? undefined : Number(s));
  if (name === 'varchar' && a && !b && n(a)! > 0 && n(a)! <= 10_485_760) return { name, length: n(a)!, ...array };
  if (name === 'numeric' && a && b && n(a)! >= 1 && n(a)! <= 1000 && n(b)! <= n(a)!)
    return { name, precision: n(a)!, scale: n(b)!, ...array };
  if (name === 'vector' && a && !b && n(a)! >= 1 && n(a)! <= 16_000) return { name, dimensions: n(a)!, ...array };
  if (!a && simple.has(name!)) return { name: name as 'text', ...array };
  return undefined;
}

/** The type as PostgreSQL's format_type() spells it, which is what introspection reads back. */
export function formatSqlType(type: SqlType): string {
  let base: string;
  switch (type.name) {
    case 'varchar':
      base = `character varying(${type.length})`;
      break;
    case 'numeric':
      base = `numeric(${type.precision},${type.scale})`;
      break;
    case 'vector':
      base = `vector(${type.dimensions})`;
      break;
    case 'timestamptz':
      base = 'timestamp with time zone';
      break;
    default:
      base = type.name;
  }
  return type.array ? `${base}[]` : base;
}

/**
 * Whether live data of type `from` always fits `to` without loss: such a change is additive and
 * planned automatically; any other type change is destructive and refused unless allowed.
 */
export function isWidening(from: SqlType, to: SqlType): boolean {
  if (Boolean(from.array) !== Boolean(to.array)) return false;
  if (from.name === 'varchar' && to.name === 'varchar') return to.length >= from.length;
  if (from.name === 'varchar' && to.name === 'text') return true;
  if (from.name === 'integer' && to.name === 'bigint') return true;
  if ((from.name === 'integer' || from.name === 'bigint') && to.name === 'numeric')
    return to.precision - to.scale >= (from.name === 'integer' ? 10 : 19);
  if (from.name === 'numeric' && to.name === 'numeric')
    return to.scale >= from.scale && to.precision - to.scale >= from.precision - from.scale;
  return false;
}

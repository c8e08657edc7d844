/**
 * The search_path Canon's own sessions use when a schema is configured: that schema, then the one
 * pgvector is installed in (so `vector`, its operators and its operator classes resolve), and nothing
 * else: no `public`, no `"$user"`. Unqualified names Canon writes resolve in the schema and CREATE
 * puts objects there; catalog reads name the schema explicitly, so a schema that does not exist yet
 * is never confused with the next one in the path. Raw text with one parameter ($1, the schema), as
 * the drivers send it while connecting.
 */
export const searchPathSql = `SELECT set_config('search_path', quote_ident($1::text) || coalesce((
  SELECT ', ' || quote_ident(n.nspname) FROM pg_catalog.pg_extension e
  JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
  WHERE e.extname = 'vector' AND n.nspname <> $1::text), ''), false)`;

/**
 * A schema name Canon accepts: an unquoted PostgreSQL identifier (lower case, at most 63 bytes) that
 * is not reserved for the system (`pg_*`, information_schema). Undefined when it is fine, else why not.
 */
export function schemaNameProblem(name: string): string | undefined {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) return 'must be lower-case letters, digits and _ (not starting with a digit)';
  if (name.length > 63) return 'must be at most 63 characters (PostgreSQL cuts longer names)';
  if (name.startsWith('pg_') || name === 'information_schema') return 'is reserved for PostgreSQL itself';
  return undefined;
}

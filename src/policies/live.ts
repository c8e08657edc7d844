import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import { type FingerprintScope, type Fingerprints, readFingerprints } from './fingerprints.ts';
import type { TablePrivileges } from './model.ts';

/** The live row-level-security state of the current schema. */
export interface LiveRls {
  schema: string;
  /** Tables with both ENABLE and FORCE ROW LEVEL SECURITY. */
  forced: Set<string>;
  /** `table/policy` → the policy's comment, for every policy on the schema's tables, Canon's or not. */
  policies: Map<string, { table: string; name: string; comment: string | null }>;
  /** Canon's functions by name: comment, and every role but the owner that may execute it. */
  functions: Map<string, { comment: string | null; executors: string[] }>;
  /**
   * Functions in the schema that carry Canon's comment but that no spec wants any more, such as a
   * helper of an older version: they would stay SECURITY DEFINER with the ACL and search_path they
   * had then, so the diff drops them. Canon makes functions for row-level security only: a function it
   * makes for anything else must join the scope's `functions`, or a plan would drop it.
   */
  retiredFunctions: string[];
  /** `table/trigger` → comment, for triggers on the schema's tables. */
  triggers: Map<string, { table: string; name: string; comment: string | null }>;
  role: { exists: boolean; schemaUsage: boolean; bypassesRls: boolean; privileges: Map<string, TablePrivileges> };
  /** Whether the role Canon connects as bypasses row-level security (superuser or BYPASSRLS). */
  canonBypassesRls: boolean;
  fingerprints: Fingerprints;
}

const privilegeRow = z.object({
  table: z.string(),
  s: z.boolean(),
  i: z.array(z.string()),
  d: z.boolean(),
  u: z.array(z.string()),
});

export async function introspectRls(
  db: CommonQueryMethods,
  appRole: string,
  scope: FingerprintScope,
): Promise<LiveRls> {
  const { schema } = scope;
  const forced = await db.anyFirst(sql.type(z.object({ relname: z.string() }))`
    SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p') AND c.relrowsecurity AND c.relforcerowsecurity`);
  const policies = await db.any(sql.type(
    z.object({ table: z.string(), name: z.string(), comment: z.string().nullable() }),
  )`
    SELECT c.relname AS table, pol.polname AS name, obj_description(pol.oid, 'pg_policy') AS comment
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema}`);
  // Grantee 0 is PUBLIC.
  const functions = await db.any(sql.type(
    z.object({ name: z.string(), comment: z.string().nullable(), executors: z.array(z.string()) }),
  )`
    SELECT p.proname AS name, obj_description(p.oid, 'pg_proc') AS comment,
      array(SELECT DISTINCT (CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee)::text END)::text
            FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
            WHERE a.privilege_type = 'EXECUTE' AND a.grantee <> p.proowner ORDER BY 1) AS executors
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND p.proname = ANY(${sql.array(scope.functions, 'text')})`);
  const retiredFunctions = await db.anyFirst(sql.type(z.object({ name: z.string() }))`
    SELECT DISTINCT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${schema} AND obj_description(p.oid, 'pg_proc') LIKE 'canon:%'
      AND p.proname <> ALL(${sql.array(scope.functions, 'text')})
    ORDER BY 1`);
  const triggers = await db.any(sql.type(
    z.object({ table: z.string(), name: z.string(), comment: z.string().nullable() }),
  )`
    SELECT c.relname AS table, t.tgname AS name, obj_description(t.oid, 'pg_trigger') AS comment
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${schema} AND NOT t.tgisinternal`);
  const canonBypassesRls = await db.oneFirst(
    sql.type(
      z.object({ b: z.boolean() }),
    )`SELECT rolsuper OR rolbypassrls AS b FROM pg_roles WHERE rolname = current_user`,
  );
  const role = await db.maybeOne(sql.type(z.object({ bypass: z.boolean(), usage: z.boolean() }))`
    SELECT rolsuper OR rolbypassrls AS bypass, CASE WHEN to_regnamespace(${schema}) IS NOT NULL
      THEN has_schema_privilege(rolname, ${schema}, 'USAGE') ELSE false END AS usage
    FROM pg_roles WHERE rolname = ${appRole}`);
  const privileges = new Map<string, TablePrivileges>();
  if (role) {
    const columns = (privilege: string) => sql.fragment`array(SELECT a.attname::text FROM pg_attribute a
      WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        AND has_column_privilege(${appRole}, c.oid, a.attnum, ${privilege}) ORDER BY a.attname)`;
    const rows = await db.any(sql.type(privilegeRow)`
      SELECT c.relname AS table,
        has_table_privilege(${appRole}, c.oid, 'SELECT') AS s, ${columns('INSERT')} AS i,
        has_table_privilege(${appRole}, c.oid, 'DELETE') AS d, ${columns('UPDATE')} AS u
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${schema} AND c.relkind IN ('r', 'p', 'm')`);
    for (const r of rows)
      privileges.set(r.table, { table: r.table, select: r.s, insert: r.i, delete: r.d, update: r.u });
  }
  return {
    schema,
    forced: new Set(forced),
    policies: new Map(policies.map((p) => [`${p.table}/${p.name}`, p])),
    functions: new Map(functions.map((f) => [f.name, { comment: f.comment, executors: f.executors }])),
    retiredFunctions: [...retiredFunctions],
    triggers: new Map(triggers.map((t) => [`${t.table}/${t.name}`, t])),
    role: { exists: role !== null, schemaUsage: role?.usage ?? false, bypassesRls: role?.bypass ?? false, privileges },
    canonBypassesRls,
    fingerprints: await readFingerprints(db, scope),
  };
}

import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { Fragment } from '../migrate/fragments.ts';

/**
 * Drift detection for row-level security. Canon's comments (`canon:<hash>`) say what Canon last
 * wrote, not what PostgreSQL holds now: `ALTER POLICY … USING (true)` keeps the comment. So after
 * every apply Canon records a fingerprint of each object as PostgreSQL itself deparses it (policy
 * expressions, function bodies and settings, ACLs, RLS flags, triggers), and a later plan compares
 * the live fingerprints with the recorded ones. A difference is drift: the plan repairs the object
 * and says so.
 */
export const fingerprintsTable = 'canon_rls_fingerprints';

export interface FingerprintScope {
  schema: string;
  /** Canon's tables: their RLS flags, ACLs, policies (Canon's or not) and triggers are fingerprinted. */
  tables: string[];
  functions: string[];
}

/** `object` → md5 of its state, for every object in scope, as the live catalog has it. */
export function liveFingerprintsQuery(scope: FingerprintScope): Fragment {
  const tables = sql.array(scope.tables, 'text');
  const functions = sql.array(scope.functions, 'text');
  return sql.fragment`
    SELECT 'policy:' || c.relname || '/' || pol.polname AS object,
      md5(concat_ws('|', pol.polcmd, pol.polpermissive, pol.polroles::text,
        pg_get_expr(pol.polqual, pol.polrelid), pg_get_expr(pol.polwithcheck, pol.polrelid))) AS fingerprint
    FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${scope.schema} AND c.relname = ANY (${tables})
    UNION ALL
    SELECT 'table:' || c.relname,
      md5(concat_ws('|', c.relrowsecurity, c.relforcerowsecurity, c.relacl::text, pg_get_userbyid(c.relowner),
        (SELECT string_agg(a.attname || '=' || a.attacl::text, ',' ORDER BY a.attnum)
           FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)))
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${scope.schema} AND c.relname = ANY (${tables}) AND c.relkind IN ('r', 'p')
    UNION ALL
    SELECT 'function:' || p.proname,
      md5(concat_ws('|', pg_get_function_identity_arguments(p.oid), p.prosrc, p.prosecdef, p.provolatile,
        p.proconfig::text, p.proacl::text, pg_get_userbyid(p.proowner), p.prorettype::regtype::text, p.prolang))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = ${scope.schema} AND p.proname = ANY (${functions})
    UNION ALL
    SELECT 'trigger:' || c.relname || '/' || t.tgname,
      md5(concat_ws('|', t.tgenabled, t.tgtype, t.tgfoid::regprocedure::text, encode(t.tgargs, 'escape'),
        pg_get_triggerdef(t.oid)))
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = ${scope.schema} AND c.relname = ANY (${tables}) AND NOT t.tgisinternal`;
}

/** The statements that replace the recorded fingerprints with the live ones: the last of an apply. */
export function recordFingerprintsStatements(scope: FingerprintScope): Fragment[] {
  const table = sql.identifier([scope.schema, fingerprintsTable]);
  const live = liveFingerprintsQuery(scope);
  return [
    sql.fragment`DELETE FROM ${table}`,
    sql.fragment`INSERT INTO ${table} (object, fingerprint) SELECT object, fingerprint FROM (${live}) f`,
  ];
}

const row = z.object({ object: z.string(), fingerprint: z.string() });

export interface Fingerprints {
  live: Map<string, string>;
  recorded: Map<string, string>;
}

export async function readFingerprints(db: CommonQueryMethods, scope: FingerprintScope): Promise<Fingerprints> {
  const live = await db.any(sql.type(row)`${liveFingerprintsQuery(scope)}`);
  const exists = await db.oneFirst(sql.type(z.object({ e: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ${scope.schema} AND c.relname = ${fingerprintsTable}) AS e`);
  const recorded = exists
    ? await db.any(sql.type(row)`SELECT object, fingerprint FROM ${sql.identifier([scope.schema, fingerprintsTable])}`)
    : [];
  return {
    live: new Map(live.map((r) => [r.object, r.fingerprint])),
    recorded: new Map(recorded.map((r) => [r.object, r.fingerprint])),
  };
}

/**
 * Whether an object changed outside Canon since the last apply recorded it: its live state differs
 * from the recorded one, it vanished, or it exists and nothing was recorded for it (a foreign object,
 * or a database applied by a Canon that did not record fingerprints yet, which cannot be verified).
 */
export function drifted(f: Fingerprints, object: string): boolean {
  const live = f.live.get(object);
  const recorded = f.recorded.get(object);
  return live === undefined ? recorded !== undefined : live !== recorded;
}

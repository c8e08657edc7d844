import { sql } from '../db/sql.ts';
import { createPolicyStatement, guardFunction, qualified } from '../policies/render.ts';
import type { SchemaChange } from './changes.ts';
import {
  columnDefinition,
  constraintDefinition,
  createIndexStatement,
  createViewStatement,
  defaultSql,
  type Fragment,
  id,
  sqlText,
  typeSql,
} from './fragments.ts';

type Emitter<K extends SchemaChange['kind']> = (change: Extract<SchemaChange, { kind: K }>) => Fragment[];

const comment = (on: Fragment, text: string) => sql.fragment`COMMENT ON ${on} IS ${sql.literalValue(text)}`;

/** One SQL emitter per change kind (drizzle-kit's convertor.ts); a new kind does not compile until handled here. */
const emitters: { [K in SchemaChange['kind']]: Emitter<K> } = {
  // Owned by the role Canon connects as; nobody else gets CREATE on it (the application role gets USAGE only).
  createSchema: (c) => [sql.fragment`CREATE SCHEMA IF NOT EXISTS ${id(c.name)}`],
  createExtension: (c) => [sql.fragment`CREATE EXTENSION IF NOT EXISTS ${id(c.name)}`],
  createTable: ({ table, comment: text, columnComments }) => {
    const primaryKey = sql.fragment`PRIMARY KEY (${sql.join(table.primaryKey.map(id), sql.fragment`, `)})`;
    const elements = sql.join([...table.columns.map(columnDefinition), primaryKey], sql.fragment`, `);
    return [
      sql.fragment`CREATE TABLE ${id(table.name)} (${elements})`,
      comment(sql.fragment`TABLE ${id(table.name)}`, text),
      ...Object.entries(columnComments).map(([column, note]) =>
        comment(sql.fragment`COLUMN ${id(table.name)}.${id(column)}`, note),
      ),
    ];
  },
  addColumn: (c) => [
    sql.fragment`ALTER TABLE ${id(c.table)} ADD COLUMN ${columnDefinition(c.column)}`,
    ...(c.comment ? [comment(sql.fragment`COLUMN ${id(c.table)}.${id(c.column.name)}`, c.comment)] : []),
  ],
  replaceGeneratedColumn: (c) => [
    sql.fragment`ALTER TABLE ${id(c.table)} DROP COLUMN IF EXISTS ${id(c.column.name)}`,
    sql.fragment`ALTER TABLE ${id(c.table)} ADD COLUMN ${columnDefinition(c.column)}`,
    comment(sql.fragment`COLUMN ${id(c.table)}.${id(c.column.name)}`, c.comment),
  ],
  alterColumnType: (c) => {
    const column = id(c.column.name);
    const type = typeSql(c.column.type);
    return [sql.fragment`ALTER TABLE ${id(c.table)} ALTER COLUMN ${column} TYPE ${type} USING ${column}::${type}`];
  },
  setNotNull: (c) => [sql.fragment`ALTER TABLE ${id(c.table)} ALTER COLUMN ${id(c.column)} SET NOT NULL`],
  dropNotNull: (c) => [sql.fragment`ALTER TABLE ${id(c.table)} ALTER COLUMN ${id(c.column)} DROP NOT NULL`],
  setDefault: (c) => {
    const value = defaultSql(c.column.default!);
    return [sql.fragment`ALTER TABLE ${id(c.table)} ALTER COLUMN ${id(c.column.name)} SET DEFAULT ${value}`];
  },
  dropDefault: (c) => [sql.fragment`ALTER TABLE ${id(c.table)} ALTER COLUMN ${id(c.column)} DROP DEFAULT`],
  dropColumn: (c) => [sql.fragment`ALTER TABLE ${id(c.table)} DROP COLUMN ${id(c.column)}`],
  dropConstraint: (c) => [sql.fragment`ALTER TABLE ${id(c.table)} DROP CONSTRAINT ${id(c.name)}`],
  addConstraint: ({ constraint, comment: text }) => {
    const definition = constraintDefinition(constraint);
    return [
      sql.fragment`ALTER TABLE ${id(constraint.table)} ADD CONSTRAINT ${id(constraint.name)} ${definition}`,
      comment(sql.fragment`CONSTRAINT ${id(constraint.name)} ON ${id(constraint.table)}`, text),
    ];
  },
  dropIndex: (c) => [sql.fragment`DROP INDEX ${id(c.name)}`],
  createIndex: ({ index, comment: text }) => [
    createIndexStatement(index),
    comment(sql.fragment`INDEX ${id(index.name)}`, text),
  ],
  dropView: (c) => [sql.fragment`DROP MATERIALIZED VIEW ${id(c.name)}`],
  createView: ({ view, comment: text }) => [
    createViewStatement(view),
    sql.fragment`CREATE UNIQUE INDEX ${id(`${view.name}_id_key`)} ON ${id(view.name)} (id)`,
    comment(sql.fragment`MATERIALIZED VIEW ${id(view.name)}`, text),
  ],
  dropTable: (c) => [sql.fragment`DROP TABLE ${id(c.table)}`],
  // Roles are cluster-wide: another database's migration may create the same role at the same moment,
  // so losing that race is not an error.
  createRole: (c) => {
    const ignoreRace = sql.fragment`EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END`;
    const body = sql.fragment`BEGIN CREATE ROLE ${id(c.role)} NOLOGIN NOBYPASSRLS; ${ignoreRace}`;
    return [sql.fragment`DO ${sql.literalValue(sqlText(body))}`];
  },
  grantSchemaUsage: (c) => [sql.fragment`GRANT USAGE ON SCHEMA ${id(c.schema)} TO ${id(c.role)}`],
  createFunction: ({ spec, names, appRole, revokeFrom, comment: text }) => {
    const args = spec.args.length ? sql.join(spec.args.map(argType), sql.fragment`, `) : sql.fragment``;
    const fn = sql.fragment`FUNCTION ${qualified(names, spec.name)}(${args})`;
    // CREATE OR REPLACE keeps the old ACL; PostgreSQL grants EXECUTE to PUBLIC by default and
    // Supabase's default privileges grant it to anon and authenticated: revoke every one of them.
    const grantees = sql.join(['PUBLIC', ...revokeFrom.filter((r) => r !== 'PUBLIC')].map(grantee), sql.fragment`, `);
    return [
      spec.statement,
      comment(fn, text),
      sql.fragment`REVOKE ALL ON ${fn} FROM ${grantees}`,
      revokeFromEveryGrantee(sqlText(sql.fragment`${qualified(names, spec.name)}(${args})`)),
      ...(spec.calledByPolicies ? [sql.fragment`GRANT EXECUTE ON ${fn} TO ${id(appRole)}`] : []),
    ];
  },
  // Every overload of the name that carries Canon's comment; regprocedure prints a signature
  // PostgreSQL itself quotes and qualifies, so no identifier is spliced by hand.
  dropFunction: (c) => {
    const body = sql.fragment`DECLARE f pg_catalog.regprocedure; BEGIN
      FOR f IN SELECT p.oid::pg_catalog.regprocedure FROM pg_catalog.pg_proc p
        JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = ${sql.literalValue(c.schema)} AND p.proname = ${sql.literalValue(c.name)}
          AND pg_catalog.obj_description(p.oid, 'pg_proc') LIKE 'canon:%'
      LOOP EXECUTE pg_catalog.format('DROP FUNCTION %s', f); END LOOP; END`;
    return [sql.fragment`DO ${sql.literalValue(sqlText(body))}`];
  },
  enableRls: (c) => {
    const table = sql.identifier([c.schema, c.table]);
    return [
      sql.fragment`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
      sql.fragment`ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
    ];
  },
  createPolicy: (c) => [
    ...(c.replaces
      ? [sql.fragment`DROP POLICY IF EXISTS ${id(c.spec.name)} ON ${qualified(c.names, c.spec.table)}`]
      : []),
    createPolicyStatement(c.spec, c.names),
    comment(sql.fragment`POLICY ${id(c.spec.name)} ON ${qualified(c.names, c.spec.table)}`, c.comment),
  ],
  dropPolicy: (c) => [sql.fragment`DROP POLICY ${id(c.name)} ON ${sql.identifier([c.schema, c.table])}`],
  createTrigger: ({ guard, names, name, comment: text }) => {
    const table = qualified(names, guard.table);
    const argument = JSON.stringify({
      tenant: guard.tenantColumn,
      owner_only: guard.ownerOnly,
      deleted_at: guard.deletedAt,
      free: guard.free,
    });
    return [
      sql.fragment`DROP TRIGGER IF EXISTS ${id(name)} ON ${table}`,
      sql.fragment`CREATE TRIGGER ${id(name)} BEFORE UPDATE ON ${table} FOR EACH ROW
        EXECUTE FUNCTION ${qualified(names, guardFunction)}(${sql.literalValue(argument)})`,
      comment(sql.fragment`TRIGGER ${id(name)} ON ${table}`, text),
    ];
  },
  dropTrigger: (c) => [sql.fragment`DROP TRIGGER ${id(c.name)} ON ${sql.identifier([c.schema, c.table])}`],
  setPrivileges: ({ role, privileges: p, schema }) => {
    const table = sql.identifier([schema, p.table]);
    const whole = [p.select && sql.fragment`SELECT`, p.delete && sql.fragment`DELETE`].filter(
      (f): f is ReturnType<typeof sql.fragment> => Boolean(f),
    );
    const columns = (list: string[]) => sql.join(list.map(id), sql.fragment`, `);
    return [
      sql.fragment`REVOKE ALL ON ${table} FROM PUBLIC, ${id(role)}`,
      ...(whole.length ? [sql.fragment`GRANT ${sql.join(whole, sql.fragment`, `)} ON ${table} TO ${id(role)}`] : []),
      ...(p.insert.length ? [sql.fragment`GRANT INSERT (${columns(p.insert)}) ON ${table} TO ${id(role)}`] : []),
      ...(p.update.length ? [sql.fragment`GRANT UPDATE (${columns(p.update)}) ON ${table} TO ${id(role)}`] : []),
    ];
  },
};

const argTypes: Record<string, Fragment> = { uuid: sql.fragment`uuid`, text: sql.fragment`text` };
const argType = (name: string) => {
  const type = argTypes[name];
  if (!type) throw new Error(`no SQL spelling for argument type ${name}`);
  return type;
};
const grantee = (role: string) => (role === 'PUBLIC' ? sql.fragment`PUBLIC` : id(role));

/**
 * Revokes EXECUTE from every role but the owner, as the function's ACL holds it when this runs: a
 * new function's ACL comes from default privileges (Supabase's grant EXECUTE to anon and
 * authenticated, which PostgREST exposes), which a plan made before the function existed cannot list.
 */
function revokeFromEveryGrantee(signature: string): Fragment {
  const fn = sql.fragment`${sql.literalValue(signature)}::pg_catalog.regprocedure`;
  const body = sql.fragment`DECLARE r text; BEGIN
    FOR r IN SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC'
        ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END
      FROM pg_catalog.pg_proc p, pg_catalog.aclexplode(p.proacl) a
      WHERE p.oid = ${fn} AND a.grantee <> p.proowner
    LOOP EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM %s', ${fn}, r); END LOOP; END`;
  return sql.fragment`DO ${sql.literalValue(sqlText(body))}`;
}

export function statementsFor(change: SchemaChange): Fragment[] {
  return (emitters[change.kind] as Emitter<SchemaChange['kind']>)(change as never);
}

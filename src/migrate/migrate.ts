import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { DatabaseError, databaseMessage } from '../db/errors.ts';
import type { Database } from '../db/open.ts';
import { sql } from '../db/sql.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { desiredRls } from '../policies/desired.ts';
import { diffRls, functionsOf, rlsNames } from '../policies/diff.ts';
import { recordFingerprintsStatements } from '../policies/fingerprints.ts';
import { introspectRls } from '../policies/live.ts';
import { defaultTenancy } from '../policies/model.ts';
import { describeSchemaChange, type SchemaChange } from './changes.ts';
import { desiredSchema } from './desired.ts';
import { type DataProbe, diffSchema, order } from './diff.ts';
import { statementsFor } from './emit.ts';
import { type Fragment, sqlText } from './fragments.ts';
import { introspect, type LiveSchema } from './live.ts';
import type { DescribedStatement, DesiredSchema, SchemaOptions } from './model.ts';

export interface MigrationPlan {
  /** The PostgreSQL schema planned against (Database.schema): plans name it with the database. */
  schemaName: string;
  /** The live catalog the plan was computed from (the row stages read only columns it has). */
  live: LiveSchema;
  /** The schema compiled from the kind catalog. */
  desired: DesiredSchema;
  changes: SchemaChange[];
  destructive: SchemaChange[];
  statements: Fragment[];
  /** The same statements, each with the change it makes, as plans' SQL comments name it. */
  described: DescribedStatement[];
}

// Defined in errors.ts, which the CLI's error handling loads without this module; re-exported for callers.
import { DestructiveChangeError } from './errors.ts';

export { DestructiveChangeError };

const count = z.object({ n: z.number() });

export function probeOf(pool: CommonQueryMethods): DataProbe {
  return {
    nullCount: (table, column) =>
      pool.oneFirst(
        sql.type(
          count,
        )`SELECT count(*)::int AS n FROM ${sql.identifier([table])} WHERE ${sql.identifier([column])} IS NULL`,
      ),
    rowCount: (table) =>
      pool.oneFirst(
        sql.type(count)`SELECT count(*)::int AS n FROM (SELECT 1 FROM ${sql.identifier([table])} LIMIT 1) t`,
      ),
  };
}

/** Introspects the live catalog and computes the DDL that brings it to the schema compiled from schemas/. */
export async function planMigration(
  db: Pick<Database, 'label' | 'schema'> & Partial<Pick<Database, 'schemaConfigured'>> & { pool: CommonQueryMethods },
  catalog: KindCatalog,
  options: SchemaOptions,
): Promise<MigrationPlan> {
  const live = await introspect(db.pool, db.schema);
  if (options.embeddings && !live.extensions.has('vector') && !live.availableExtensions.has('vector')) {
    throw new DatabaseError(
      `${db.label} has no pgvector extension, which embeddings need: install pgvector on the server, ` +
        'or run with --no-embeddings (or set "embeddings: {enabled: false}" in the registry\'s canon.yaml) ' +
        'to build everything but the vector column',
    );
  }
  const desired = desiredSchema(catalog, options);
  const tenancy = options.tenancy ?? defaultTenancy;
  const schemaName = db.schema;
  const names = rlsNames(catalog, schemaName);
  const rlsSpec = desiredRls(catalog, desired, tenancy);
  const scope = {
    schema: schemaName,
    tables: desired.tables.map((t) => t.name),
    functions: functionsOf(rlsSpec, names).map((f) => f.name),
  };
  const rls = await introspectRls(db.pool, tenancy.appRole, scope);
  if (!rls.canonBypassesRls) {
    throw new DatabaseError(
      `Canon must connect to ${db.label} as a role that bypasses row-level security ` +
        `(a superuser, or one with BYPASSRLS, such as postgres); applications use the role ${tenancy.appRole}`,
    );
  }
  if (rls.role.bypassesRls) {
    throw new DatabaseError(
      `the application role ${tenancy.appRole} bypasses row-level security, ` +
        'so no policy would protect tenants from each other; ' +
        'use a role without SUPERUSER and BYPASSRLS (tenancy.app_role in canon.yaml)',
    );
  }
  if (db.schemaConfigured && rls.role.exists) await refuseWritableSearchPath(db, tenancy.appRole);
  const schemaChanges = await diffSchema(desired, live, probeOf(db.pool));
  const policyChanges = diffRls(rlsSpec, rls, names, desired, new Set(live.tables.keys()));
  const changes = order([...schemaChanges, ...policyChanges]);
  // Last: what PostgreSQL now holds becomes the baseline the next plan checks for drift.
  const record = changes.length > 0 ? recordFingerprintsStatements(scope) : [];
  const described: DescribedStatement[] = [
    ...changes.flatMap((c) => {
      const purpose = `schema: ${describeSchemaChange(c)}`;
      return statementsFor(c).map((statement) => ({ purpose, statement }));
    }),
    ...record.map((statement) => ({ purpose: 'schema: record what row-level security now holds', statement })),
  ];
  const statements = described.map((d) => d.statement);
  const destructive = changes.filter((c) => c.destructive);
  return { schemaName, live, desired, changes, destructive, statements, described };
}

/**
 * With a configured schema Canon's sessions search only it and pgvector's schema. If the application
 * role could create objects in either, a tenant could plant a function or operator overloading one
 * Canon calls unqualified, and run code as the role Canon connects as: refuse before anything runs.
 */
async function refuseWritableSearchPath(db: Pick<Database, 'label'> & { pool: CommonQueryMethods }, appRole: string) {
  const writable = await db.pool.anyFirst(sql.type(z.object({ s: z.string() }))`
    SELECT s FROM unnest(current_schemas(false)) AS s WHERE has_schema_privilege(${appRole}, s, 'CREATE') ORDER BY s`);
  if (writable.length === 0) return;
  const list = sql.join(
    writable.map((s) => sql.identifier([s])),
    sql.fragment`, `,
  );
  const revoke = sqlText(sql.fragment`REVOKE CREATE ON SCHEMA ${list} FROM PUBLIC, ${sql.identifier([appRole])}`);
  throw new DatabaseError(
    `the application role ${appRole} can create objects in schema ${writable.join(', ')} of ${db.label}, ` +
      "which Canon's sessions search: a tenant could plant a function Canon would call. " +
      `Revoke it first: ${revoke}`,
  );
}

/** Runs the plan's statements in one transaction: all of them or none. */
export async function applyMigration(
  db: Database,
  plan: MigrationPlan,
  options: { allowDestructive: boolean },
): Promise<void> {
  if (plan.destructive.length > 0 && !options.allowDestructive) {
    throw new DestructiveChangeError(
      `refusing ${plan.destructive.length} destructive schema change(s); ` +
        'review them and pass --allow-destructive to apply',
    );
  }
  if (plan.statements.length === 0) return;
  await db.pool.transaction(async (tx) => {
    for (const [i, statement] of plan.statements.entries()) {
      try {
        await tx.query(sql.unsafe`${statement}`);
      } catch (e) {
        throw new DatabaseError(
          `schema statement ${i + 1} of ${plan.statements.length} failed: ${databaseMessage(e)}; ` +
            'the transaction was rolled back and nothing was changed',
          { cause: e },
        );
      }
    }
  });
  // PGlite: array parameters of an extension's types fail until its array types are re-read.
  if (db.pglite && plan.changes.some((c) => c.kind === 'createExtension')) await db.pglite.refreshArrayTypes();
}

/** The statements as SQL text, as `--format sql` and `--dry-run` print them. */
export function statementText(plan: MigrationPlan): string {
  return plan.statements.map((s) => `${sqlText(s)};`).join('\n') + (plan.statements.length ? '\n' : '');
}

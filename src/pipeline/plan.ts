import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { DatabasePool, DatabasePoolConnection } from 'slonik';
import { withAnalyticsRefresh } from '../compile/analytics.ts';
import { type CompiledStatement, compilePlan } from '../compile/compile.ts';
import { describeQueryError, errorCode } from '../db/errors.ts';
import { exclusiveLockHolder, setSessionLimits } from '../db/session.ts';
import { type Diagnostic, hasErrors } from '../diagnostics/diagnostic.ts';
import { driftOfUpdates, liveLabels, markDrift } from '../drift/mark.ts';
import { planKnowledge, withKnowledgeStatements } from '../embed/pipeline.ts';
import { readDatabaseId } from '../introspect/identity.ts';
import { readLiveRegistry } from '../introspect/rows.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { type MigrationPlan, planMigration } from '../migrate/migrate.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { computedOnRead, deriveOnRead } from '../plan/canonical.ts';
import type { DeleteMode, Plan } from '../plan/model.ts';
import { computePlan } from '../plan/plan.ts';
import { shapesOf } from '../plan/shape.ts';
import type { Validators } from '../validate/ajv.ts';
import { checkRegistryAsync } from './check.ts';
import { canonVersion } from './version.ts';

export interface PlanOptions {
  dir: string;
  /** Reuse parse results of unchanged registry files (the CLI passes its user cache folder). */
  cacheDir?: string;
  /** The catalog's compiled validators (the CLI loads them from its cache); compiled here when absent. */
  validators?: Validators;
  /** Told when each stage starts, for progress on long work. */
  onStage?: (stage: string) => void;
  catalog: KindCatalog;
  schema: SchemaOptions;
  deleteMode: DeleteMode;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

export type PlanOutcome =
  | { ok: false; diagnostics: Diagnostic[] }
  | {
      ok: true;
      diagnostics: Diagnostic[];
      plan: Plan;
      migration: MigrationPlan;
      /** The SQL apply runs, compiled when first read. */
      statements: CompiledStatement[];
      timings: Record<string, number>;
    };

/** The registry's git commit (with -dirty when its files have uncommitted edits), or null outside git. */
export function gitCommitOf(dir: string): string | null {
  try {
    // One git process: porcelain v2 with --branch gives the commit id and the changed files together.
    const status = execFileSync('git', ['status', '--porcelain=v2', '--branch', '--', '.'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const lines = status.split('\n').filter((l) => l !== '');
    const head = /^# branch\.oid ([0-9a-f]{40,64})$/m.exec(status)?.[1];
    if (!head) return null; // no commit yet ("(initial)")
    return lines.some((l) => !l.startsWith('#')) ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/**
 * Binds a plan to the database it was made against: the identity is part of its hash. In place and
 * lazily, like the plan's own hashes: a re-plan in `canon dev` pays for hashing only when it is read.
 */
export function bindToDatabase(plan: Plan, databaseId: string, databaseSchema: string): Plan {
  plan.databaseId = databaseId;
  plan.databaseSchema = databaseSchema;
  deriveOnRead(plan, 'planHash', (unbound) =>
    createHash('sha256').update(`${unbound} database ${databaseId}`).digest('hex'),
  );
  return plan;
}

/**
 * The whole compiler up to SQL: check the registry, plan the schema, read the live rows, diff, compile.
 * Reads on one connection (a pool's, or the one `db` is), under the session limits of `options`;
 * never inside a transaction. Writes nothing.
 */
export async function planRegistry(
  db: { pool: DatabasePool | DatabasePoolConnection; label: string; schema: string; schemaConfigured?: boolean },
  options: PlanOptions,
): Promise<PlanOutcome> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => {
    timings[name] = performance.now() - t;
    t = performance.now();
  };
  options.onStage?.('Reading the registry');
  const { cacheDir, validators } = options;
  const checked = await checkRegistryAsync(options.dir, options.catalog, { cacheDir, validators });
  lap('check');
  if (hasErrors(checked.diagnostics)) return { ok: false, diagnostics: checked.diagnostics };
  options.onStage?.(`Comparing ${checked.graph.assets.length} assets with ${db.label}`);
  const read = async (connection: DatabasePoolConnection) => {
    try {
      await setSessionLimits(connection, options);
      const databaseId = await readDatabaseId(connection, db.schema);
      const migration = await planMigration({ ...db, pool: connection }, options.catalog, options.schema);
      lap('schema');
      const wanted = checked.graph.assets.map((a) => ({
        table: options.catalog.kinds.get(a.kind)!.table,
        uuid: a.uuid,
        id: a.id,
      }));
      const live = await readLiveRegistry(connection, shapes.values(), migration.live, wanted);
      lap('introspect');
      return { databaseId, migration, live };
    } catch (e) {
      const holder = errorCode(e) === '55P03' ? await exclusiveLockHolder(connection, db.schema) : undefined;
      throw describeQueryError(e, db.label, options, 'nothing was changed', holder) ?? e;
    }
  };
  const shapes = shapesOf(options.catalog);
  const { databaseId, migration, live } = 'connect' in db.pool ? await db.pool.connect(read) : await read(db.pool);
  const plan = bindToDatabase(
    computePlan({
      shapes,
      graph: checked.graph,
      live,
      schema: migration.changes,
      database: db.label,
      deleteMode: options.deleteMode,
      gitCommit: gitCommitOf(options.dir),
    }),
    databaseId,
    db.schema,
  );
  markDrift(plan, await driftOfUpdates(db.pool, plan, shapes, live.assets, liveLabels(live.assets)));
  lap('diff');
  const knowledge = await planKnowledge(db.pool, plan, {
    graph: checked.graph,
    catalog: options.catalog,
    live: migration.live,
    dir: options.dir,
    schema: options.schema,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  lap('chunks');
  // Compiled when first read (apply, --format sql), not for every plan: a plan that is only rendered
  // would otherwise spend a fifth of its time and a quarter of its memory on SQL nobody runs.
  const compile = () => {
    const started = performance.now();
    const statements = withKnowledgeStatements(
      compilePlan(plan, {
        shapes,
        schema: migration.desired,
        ddl: migration.described,
        canonVersion,
        statementTimeoutMs: options.statementTimeoutMs,
        lockTimeoutMs: options.lockTimeoutMs,
      }),
      knowledge,
      plan,
      options.schema,
    );
    const withRefresh = withAnalyticsRefresh(statements, plan, migration.desired);
    timings.compile = performance.now() - started;
    return withRefresh;
  };
  const outcome: Extract<PlanOutcome, { ok: true }> = {
    ok: true,
    diagnostics: [...checked.diagnostics, ...plan.diagnostics],
    plan,
    migration,
    statements: [],
    timings,
  };
  computedOnRead(outcome, 'statements', compile);
  return outcome;
}

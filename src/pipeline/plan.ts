import { execFileSync } from 'node:child_process';
import type { CommonQueryMethods } from 'slonik';
import { hasErrors, type Diagnostic } from '../diagnostics/diagnostic.ts';
import { compilePlan, type CompiledStatement } from '../compile/compile.ts';
import { readLiveRegistry } from '../introspect/rows.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { planMigration, type MigrationPlan } from '../migrate/migrate.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import type { DeleteMode, Plan } from '../plan/model.ts';
import { computePlan } from '../plan/plan.ts';
import { shapesOf } from '../plan/shape.ts';
import { checkRegistry } from './check.ts';
import { planKnowledge, withKnowledgeStatements } from '../embed/pipeline.ts';
import { withAnalyticsRefresh } from '../compile/analytics.ts';
import { canonVersion } from './version.ts';

export interface PlanOptions {
  dir: string;
  /** Reuse parse results of unchanged registry files (the CLI passes .canon/cache). */
  cacheDir?: string;
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
  | { ok: true; diagnostics: Diagnostic[]; plan: Plan; migration: MigrationPlan; statements: CompiledStatement[]; timings: Record<string, number> };

/** The registry's git commit (with -dirty when its files have uncommitted edits), or null outside git. */
export function gitCommitOf(dir: string): string | null {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', '.'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return null;
  }
}

/**
 * The whole compiler up to SQL: check the registry, plan the schema, read the live rows, diff, compile.
 * `db` may be a pool or a transaction (apply plans inside its transaction, under its lock).
 */
export async function planRegistry(db: { pool: CommonQueryMethods; label: string }, options: PlanOptions): Promise<PlanOutcome> {
  const timings: Record<string, number> = {};
  let t = performance.now();
  const lap = (name: string) => { timings[name] = performance.now() - t; t = performance.now(); };
  options.onStage?.('Reading the registry');
  const checked = checkRegistry(options.dir, options.catalog, options.cacheDir ? { cacheDir: options.cacheDir } : {});
  lap('check');
  if (hasErrors(checked.diagnostics)) return { ok: false, diagnostics: checked.diagnostics };
  options.onStage?.(`Comparing ${checked.graph.assets.length} assets with ${db.label}`);
  const migration = await planMigration(db, options.catalog, options.schema);
  lap('schema');
  const shapes = shapesOf(options.catalog);
  const wanted = checked.graph.assets.map((a) => ({ table: options.catalog.kinds.get(a.kind)!.table, uuid: a.uuid, id: a.id }));
  const live = await readLiveRegistry(db.pool, shapes.values(), migration.live, wanted);
  lap('introspect');
  const plan = computePlan({ shapes, graph: checked.graph, live, schema: migration.changes, database: db.label, deleteMode: options.deleteMode, gitCommit: gitCommitOf(options.dir) });
  lap('diff');
  const knowledge = await planKnowledge(db.pool, plan, {
    graph: checked.graph, catalog: options.catalog, live: migration.live, dir: options.dir, schema: options.schema,
    ...(options.cacheDir ? { cacheDir: options.cacheDir } : {}),
  });
  lap('chunks');
  const statements = withKnowledgeStatements(compilePlan(plan, {
    shapes, schema: migration.desired, ddl: migration.statements, canonVersion,
    statementTimeoutMs: options.statementTimeoutMs, lockTimeoutMs: options.lockTimeoutMs,
  }), knowledge, plan, options.schema);
  const withRefresh = withAnalyticsRefresh(statements, plan, migration.desired);
  lap('compile');
  return { ok: true, diagnostics: [...checked.diagnostics, ...plan.diagnostics], plan, migration, statements: withRefresh, timings };
}

import { databaseMessage } from '../db/errors.ts';
import { sql } from '../db/sql.ts';
import type { Database } from '../db/open.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { Plan } from '../plan/model.ts';
import { hasChanges } from '../plan/model.ts';
import { planRegistry, type PlanOptions } from '../pipeline/plan.ts';
import type { CompiledStatement } from '../compile/compile.ts';
import { acquireApplyLock } from './lock.ts';

/** The asset a database error is about: PostgreSQL's detail names the failing row by its id or key. */
function assetNamedIn(message: string, statement: CompiledStatement) {
  const assets = statement.assets ?? [];
  return assets.find((a) => message.includes(a.uuid)) ?? assets.find((a) => new RegExp(`[(=, ]${a.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[,)]`).test(message));
}

// Defined in errors.ts, which the CLI's error handling loads without this module; re-exported for callers.
import { ApplyFailedError, ApplyRefusedError } from './errors.ts';

export { ApplyFailedError, ApplyRefusedError };

export interface ApplyOptions extends PlanOptions {
  allowDelete: boolean;
  allowDestructive: boolean;
  /** A plan saved by `canon plan --out`: apply refuses unless the fresh plan is exactly it. */
  saved?: Pick<Plan, 'planHash' | 'registryHash' | 'liveHash'>;
  /** Asked with the plan in hand, inside the transaction (the lock is held meanwhile). */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Told before each statement runs (progress). */
  onStatement?: (index: number, total: number, purpose: string) => void;
}

export type ApplyOutcome =
  | { status: 'invalid'; diagnostics: Diagnostic[] }
  | { status: 'unchanged' | 'applied'; plan: Plan; diagnostics: Diagnostic[]; durationMs: number; statements: number; executeMs: number };

/**
 * Stage "apply": under the advisory lock and in one transaction, plan afresh, check the plan may be
 * applied, and run its statements. Any failure rolls everything back: the database stays exactly as
 * it was.
 */
export async function applyRegistry(db: Database, options: ApplyOptions): Promise<ApplyOutcome> {
  const started = performance.now();
  return db.pool.connect(async (connection) => {
    await connection.query(sql.unsafe`SELECT set_config('application_name', 'canon apply', false)`);
    return connection.transaction(async (tx) => {
      await acquireApplyLock(tx, options.lockTimeoutMs);
      const outcome = await planRegistry({ pool: tx, label: db.label }, options);
      if (!outcome.ok) return { status: 'invalid', diagnostics: outcome.diagnostics };
      const { plan, statements } = outcome;
      if (plan.diagnostics.length > 0) return { status: 'invalid', diagnostics: outcome.diagnostics };
      if (options.saved && options.saved.planHash !== plan.planHash) {
        const what = options.saved.registryHash !== plan.registryHash ? 'the registry changed' : options.saved.liveHash !== plan.liveHash ? 'the database changed' : 'the plan differs';
        throw new ApplyRefusedError(`the saved plan is stale: ${what} since it was made. Run 'canon plan' again and review the new plan`);
      }
      if (plan.summary.delete > 0 && !options.allowDelete) {
        throw new ApplyRefusedError(`the plan deletes ${plan.summary.delete} asset(s); nothing was changed. Review the deletes and pass --allow-delete to apply them`);
      }
      const destructive = plan.schema.filter((c) => c.destructive);
      if (destructive.length > 0 && !options.allowDestructive) {
        throw new ApplyRefusedError(`the plan has ${destructive.length} destructive schema change(s); nothing was changed. Review them and pass --allow-destructive`);
      }
      if (!hasChanges(plan)) return { status: 'unchanged', plan, diagnostics: outcome.diagnostics, durationMs: performance.now() - started, statements: 0, executeMs: 0 };
      if (options.confirm && !(await options.confirm(plan))) throw new ApplyRefusedError('apply cancelled; nothing was changed');
      const executing = performance.now();
      for (const [i, statement] of statements.entries()) {
        options.onStatement?.(i, statements.length, statement.purpose);
        try {
          await tx.query(statement.query);
        } catch (e) {
          const message = databaseMessage(e);
          const asset = assetNamedIn(message, statement);
          const where = asset ? `${asset.source ? `${asset.source.file}:${asset.source.line}:${asset.source.column}: ` : ''}${asset.kind} '${asset.id}'${asset.tenant ? ` (tenant ${asset.tenant})` : ''}: ` : '';
          throw new ApplyFailedError(`${where}statement ${i + 1} of ${statements.length} (${statement.purpose}) failed: ${message}; the transaction was rolled back and nothing was changed`, { cause: e });
        }
      }
      if (db.pglite && plan.schema.some((c) => c.kind === 'createExtension')) await db.pglite.refreshArrayTypes();
      const executeMs = performance.now() - executing;
      return { status: 'applied', plan, diagnostics: outcome.diagnostics, durationMs: performance.now() - started, statements: statements.length, executeMs };
    });
  });
}

import type { CompiledStatement } from '../compile/compile.ts';
import { connectionLostIn, databaseMessage } from '../db/errors.ts';
import type { Database } from '../db/open.ts';
import { setSessionLimits } from '../db/session.ts';
import { sql } from '../db/sql.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { type PlanOptions, planRegistry } from '../pipeline/plan.ts';
import type { Plan } from '../plan/model.ts';
import { hasChanges } from '../plan/model.ts';
import { acquireApplyLock, releaseApplyLock } from './lock.ts';
import { garbageCollector } from './memory.ts';

/** The asset a database error is about: PostgreSQL's detail names the failing row by its id or key. */
function assetNamedIn(message: string, statement: CompiledStatement) {
  const assets = statement.assets ?? [];
  return (
    assets.find((a) => message.includes(a.uuid)) ??
    assets.find((a) => new RegExp(`[(=, ]${a.id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[,)]`).test(message))
  );
}

// Defined in errors.ts, which the CLI's error handling loads without this module; re-exported for callers.
import { ApplyFailedError, ApplyRefusedError } from './errors.ts';

export { ApplyFailedError, ApplyRefusedError };

export interface ApplyOptions extends PlanOptions {
  allowDelete: boolean;
  allowDestructive: boolean;
  /** A plan saved by `canon plan --out`: apply refuses unless the fresh plan is exactly it, made here. */
  saved?: Pick<Plan, 'planHash' | 'registryHash' | 'liveHash' | 'databaseId' | 'databaseSchema'>;
  /**
   * Asked with the plan in hand, before any lock, transaction or connection is held. Under the lock
   * apply plans again and refuses if the plan changed meanwhile.
   */
  confirm?: (plan: Plan) => Promise<boolean>;
  /** Told before each statement runs (progress). */
  onStatement?: (index: number, total: number, purpose: string) => void;
}

export type ApplyOutcome =
  | { status: 'invalid'; diagnostics: Diagnostic[] }
  | {
      status: 'unchanged' | 'applied';
      plan: Plan;
      diagnostics: Diagnostic[];
      durationMs: number;
      statements: number;
      executeMs: number;
    };

/** Refusals that hold for any plan: unapproved deletes and destructive schema changes. */
function refuseUnapproved(plan: Plan, options: ApplyOptions) {
  if (plan.summary.delete > 0 && !options.allowDelete) {
    throw new ApplyRefusedError(
      `the plan deletes ${plan.summary.delete} asset(s); nothing was changed. ` +
        'Review the deletes and pass --allow-delete to apply them',
    );
  }
  const destructive = plan.schema.filter((c) => c.destructive);
  if (destructive.length > 0 && !options.allowDestructive) {
    throw new ApplyRefusedError(
      `the plan has ${destructive.length} destructive schema change(s); nothing was changed. ` +
        'Review them and pass --allow-destructive',
    );
  }
}

type Hashes = Pick<Plan, 'registryHash' | 'liveHash'> & Partial<Pick<Plan, 'gitCommit'>>;

/** What moved between two plans of the same database, in the words of the refusal. */
function whatChanged(then: Hashes, now: Plan) {
  if (then.registryHash !== now.registryHash) return 'the registry changed';
  if (then.gitCommit !== undefined && then.gitCommit !== now.gitCommit) return "the registry's git commit changed";
  return 'the database changed';
}

function checkSaved(saved: NonNullable<ApplyOptions['saved']>, plan: Plan) {
  // The schema is part of the database id; named, the refusal says which part differs.
  if (saved.databaseId !== plan.databaseId && saved.databaseSchema && saved.databaseSchema !== plan.databaseSchema) {
    throw new ApplyRefusedError(
      `the saved plan was made for schema ${saved.databaseSchema}, not ${plan.databaseSchema}; nothing was changed. ` +
        "Run 'canon plan' for this schema and review its plan",
    );
  }
  if (saved.databaseId !== plan.databaseId) {
    throw new ApplyRefusedError(
      saved.databaseId
        ? `the saved plan was made for another database, not ${plan.database}; nothing was changed. ` +
            "Run 'canon plan' against this database and review its plan"
        : 'the saved plan does not say which database it was made for (made by an older Canon); nothing was changed. ' +
            "Run 'canon plan' again",
    );
  }
  if (saved.planHash === plan.planHash) return;
  if (saved.registryHash === plan.registryHash && saved.liveHash === plan.liveHash) {
    throw new ApplyRefusedError(
      'the saved plan does not match its plan_hash here: the file was edited, or made for ' +
        "another database; nothing was changed. Run 'canon plan' again",
    );
  }
  throw new ApplyRefusedError(
    `the saved plan is stale: ${whatChanged(saved, plan)} since it was made. ` +
      "Run 'canon plan' again and review the new plan",
  );
}

/** A statement the database rejected, naming the asset (and its file) when PostgreSQL's message says which. */
function statementFailed(e: unknown, statement: CompiledStatement, index: number, total: number) {
  const message = databaseMessage(e);
  const asset = assetNamedIn(message, statement);
  const at = asset?.source ? `${asset.source.file}:${asset.source.line}:${asset.source.column}: ` : '';
  const where = asset ? `${at}${asset.kind} '${asset.id}'${asset.tenant ? ` (tenant ${asset.tenant})` : ''}: ` : '';
  return new ApplyFailedError(
    `${where}statement ${index + 1} of ${total} (${statement.purpose}) failed: ${message}; ` +
      'the transaction was rolled back and nothing was changed',
    { cause: e },
  );
}

/**
 * Stage "apply". With a person to ask, plan first and ask, holding nothing. Then, on one connection
 * under the session's advisory lock: plan afresh and refuse unless it is the plan that was approved
 * (or saved); then run its statements in one transaction, one after the other with nothing computed
 * in between. Any failure rolls everything back: the database stays exactly as it was.
 */
export async function applyRegistry(db: Database, options: ApplyOptions): Promise<ApplyOutcome> {
  const started = performance.now();
  type Planned = { plan: Plan; diagnostics: Diagnostic[] };
  const done = (status: 'unchanged' | 'applied', { plan, diagnostics }: Planned, statements = 0, executeMs = 0) =>
    ({ status, plan, diagnostics, durationMs: performance.now() - started, statements, executeMs }) as ApplyOutcome;
  let approved: Plan | undefined;
  if (options.confirm) {
    const first = await planRegistry(db, options);
    if (!first.ok || first.plan.diagnostics.length > 0) return { status: 'invalid', diagnostics: first.diagnostics };
    refuseUnapproved(first.plan, options);
    if (!hasChanges(first.plan)) return done('unchanged', first);
    if (!(await options.confirm(first.plan))) throw new ApplyRefusedError('apply cancelled; nothing was changed');
    approved = first.plan;
  }
  let phase = 'planning';
  try {
    return await db.pool.connect(async (connection): Promise<ApplyOutcome> => {
      await connection.query(sql.unsafe`SELECT set_config('application_name', 'canon apply', false)`);
      await setSessionLimits(connection, options);
      await acquireApplyLock(connection, options.lockTimeoutMs);
      try {
        const outcome = await planRegistry({ ...db, pool: connection }, options);
        if (!outcome.ok || outcome.plan.diagnostics.length > 0) {
          return { status: 'invalid', diagnostics: outcome.diagnostics };
        }
        const { plan } = outcome;
        if (options.saved) checkSaved(options.saved, plan);
        if (approved && approved.planHash !== plan.planHash) {
          throw new ApplyRefusedError(
            `${whatChanged(approved, plan)} while you were deciding; nothing was applied. ` +
              "Run 'canon apply' again to review the new plan",
          );
        }
        refuseUnapproved(plan, options);
        if (!hasChanges(plan)) return done('unchanged', outcome);
        // Compiled here, under the lock and before the transaction opens: no client-side gap inside it.
        const { statements } = outcome;
        const executing = performance.now();
        const sent = garbageCollector();
        await connection.transaction(async (tx) => {
          let query = statements[0]?.query;
          for (const [i, statement] of statements.entries()) {
            phase = `statement ${i + 1} of ${statements.length} (${statement.purpose})`;
            options.onStatement?.(i, statements.length, statement.purpose);
            const running = tx.query(query!).then(
              () => undefined,
              (e: unknown) => ({ failed: e }),
            );
            // The next statement's text (megabytes of JSON at 5,000 assets) is built while the server runs
            // this one, once this one has been handed to the socket: a macrotask later, slonik's
            // asynchronous steps before the write have run. Building them in turn left the server idle
            // for a third of a 100k apply.
            await new Promise((resolve) => setImmediate(resolve));
            const next = statements[i + 1]?.query;
            // A collection's pause, when one is due, falls here too: while the server works.
            sent(query!.values);
            const outcome = await running;
            if (outcome) {
              const e = outcome.failed;
              throw connectionLostIn(e) ? e : statementFailed(e, statement, i, statements.length);
            }
            query = next;
          }
          phase = 'committing';
        });
        phase = 'done';
        const executeMs = performance.now() - executing;
        if (db.pglite && plan.schema.some((c) => c.kind === 'createExtension')) await db.pglite.refreshArrayTypes();
        return done('applied', outcome, statements.length, executeMs);
      } finally {
        // On a lost connection this fails at once; the server drops the session's lock with the session.
        await releaseApplyLock(connection).catch(() => {});
      }
    });
  } catch (e) {
    const lost = connectionLostIn(e);
    if (lost && phase === 'committing') {
      throw new ApplyFailedError(
        `lost the connection to ${db.label} while committing (${lost.reason}): the apply may ` +
          "or may not have been committed. Run 'canon plan' to see where the database stands",
        { cause: e },
      );
    }
    if (lost) {
      const during = phase === 'planning' ? '' : ` during ${phase}`;
      throw new ApplyFailedError(`lost the connection to ${db.label}${during}: ${lost.reason}; nothing was changed`, {
        cause: e,
      });
    }
    // Deferred checks (references) run at COMMIT; a failure there rolls everything back too.
    if (phase === 'committing') {
      throw new ApplyFailedError(
        `committing failed: ${databaseMessage(e)}; the transaction was rolled back and ` + 'nothing was changed',
        { cause: e },
      );
    }
    throw e;
  }
}

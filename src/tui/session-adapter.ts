import { resolve } from 'node:path';
import { ApplyFailedError, ApplyRefusedError, applyRegistry } from '../apply/apply.ts';
import { ApplyLockTimeoutError } from '../apply/lock.ts';
import { configFileName, loadConfig } from '../config/config.ts';
import { DatabaseError } from '../db/errors.ts';
import type { Database } from '../db/open.ts';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { DestructiveChangeError } from '../migrate/migrate.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { createPlanSession, type PlanSession } from '../pipeline/session.ts';
import type { DeleteMode, Plan, PlanSummary } from '../plan/model.ts';

// The one place `canon dev` calls the plan session and apply: if their APIs move, only this file follows.

export interface DevSettings {
  dir: string;
  catalog: KindCatalog;
  deleteMode: DeleteMode;
  /** --no-embeddings: build everything except the vector column. */
  noEmbeddings: boolean;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  /** Parse cache folder for apply's own fresh plan (the CLI's .canon/cache). */
  cacheDir?: string;
  /** File names in diagnostics are relative to this folder (default: the working directory). */
  root?: string;
  /** --schema: Canon's PostgreSQL schema (else canon.yaml's `schema:`, else current_schema()). */
  pgSchema?: string;
}

/** What the view shows after one re-plan. */
export interface PlanView {
  diagnostics: Diagnostic[];
  /** Null while the registry has errors or before the live state was read. */
  plan: Plan | null;
  assets: number;
  files: number;
  ms: number;
}

export type ApplyResult =
  | { status: 'applied' | 'unchanged'; summary: PlanSummary; schemaChanges: number; statements: number; ms: number }
  | { status: 'invalid'; diagnostics: Diagnostic[] }
  | { status: 'refused' | 'failed'; message: string };

export interface DevPlanner {
  /** Re-reads the named files (all files when none are named), re-checks and re-plans. */
  replan(changedPaths?: readonly string[]): PlanView & { settingsChanged: boolean };
  /** Reads the database's schema and rows; later re-plans diff against them. */
  refresh(db: Database): Promise<void>;
  /** Applies exactly `plan` (refused as stale if the registry or the database moved since it was made). */
  apply(db: Database, plan: Plan, allowDelete: boolean): Promise<ApplyResult>;
  /** The PostgreSQL schema configured when the view started: the database is opened in it, once. */
  readonly databaseSchema: string | undefined;
}

/** Settings from canon.yaml and flags. The PostgreSQL schema is read once, when the database is opened. */
function schemaOptions(settings: DevSettings): SchemaOptions {
  const { config } = loadConfig(settings.dir, settings.root);
  const pgSchema = settings.pgSchema ?? config.schema;
  return {
    ...(pgSchema ? { pgSchema } : {}),
    embeddings: config.embeddings.enabled && !settings.noEmbeddings,
    dimensions: config.embeddings.dimensions,
    tenancy: config.tenancy,
  };
}

export function createDevPlanner(settings: DevSettings): DevPlanner {
  let schema = schemaOptions(settings);
  const databaseSchema = schema.pgSchema;
  const open = () =>
    createPlanSession({
      dir: settings.dir,
      catalog: settings.catalog,
      schema,
      deleteMode: settings.deleteMode,
      ...(settings.root ? { root: settings.root } : {}),
    });
  let session: PlanSession = open();
  const settingsFile = resolve(settings.dir, configFileName);

  return {
    replan(changedPaths) {
      const started = performance.now();
      let settingsChanged = false;
      // canon.yaml decides the schema (embeddings, tenancy): a change there needs a new session and a new live read.
      const touchesSettings = (p: string) => resolve(p) === settingsFile || resolve(p) === resolve(settings.dir);
      if (!changedPaths || changedPaths.some(touchesSettings)) {
        const next = schemaOptions(settings);
        if (JSON.stringify(next) !== JSON.stringify(schema)) {
          schema = next;
          session = open();
          settingsChanged = true;
        }
      }
      const result = session.update(settingsChanged ? undefined : changedPaths);
      return {
        diagnostics: result.diagnostics,
        plan: result.plan,
        assets: result.graph.assets.length,
        files: result.files,
        ms: performance.now() - started,
        settingsChanged,
      };
    },
    refresh: (db) => session.refreshLive(db),
    databaseSchema,
    async apply(db, plan, allowDelete) {
      // The open database stays in the schema it was opened in: applying a registry that now names
      // another would write where canon.yaml no longer says.
      if (schema.pgSchema !== databaseSchema) {
        const named = schema.pgSchema ? `schema ${schema.pgSchema}` : 'no schema';
        return {
          status: 'refused',
          message:
            `${configFileName} now names ${named}, but this view works in schema ${db.schema}; ` +
            'nothing was changed. Restart canon dev',
        };
      }
      try {
        const options = {
          dir: settings.dir,
          catalog: settings.catalog,
          schema,
          deleteMode: settings.deleteMode,
          ...(settings.cacheDir ? { cacheDir: settings.cacheDir } : {}),
          statementTimeoutMs: settings.statementTimeoutMs,
          lockTimeoutMs: settings.lockTimeoutMs,
        };
        // The plan on screen is a full plan (knowledge included), bound to its database: apply it as a
        // saved plan, which apply re-checks under its lock and refuses as stale if anything moved.
        const { planHash, registryHash, liveHash, databaseId } = plan;
        const outcome = await applyRegistry(db, {
          ...options,
          allowDelete,
          allowDestructive: false,
          saved: { planHash, registryHash, liveHash, ...(databaseId ? { databaseId } : {}) },
        });
        if (outcome.status === 'invalid') return { status: 'invalid', diagnostics: outcome.diagnostics };
        return {
          status: outcome.status,
          summary: outcome.plan.summary,
          schemaChanges: outcome.plan.schema.length,
          statements: outcome.statements,
          ms: outcome.durationMs,
        };
      } catch (e) {
        if (e instanceof ApplyRefusedError || e instanceof DestructiveChangeError)
          return { status: 'refused', message: inViewTerms(e.message) };
        if (e instanceof ApplyFailedError || e instanceof ApplyLockTimeoutError || e instanceof DatabaseError) {
          return { status: 'failed', message: e.message };
        }
        throw e;
      }
    },
  };
}

/** apply's refusal of a stale saved plan speaks of `canon plan`; in the view, the plan on screen is the saved plan. */
function inViewTerms(message: string): string {
  const stale = /^the saved plan is stale: (.*) since it was made/.exec(message);
  return stale
    ? `the plan on screen is out of date (${stale[1]}); nothing was changed. Review the new plan and press a again`
    : message;
}

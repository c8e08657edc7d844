import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CommonQueryMethods } from 'slonik';
import { loadConfig } from '../config/config.ts';
import { type Diagnostic, hasErrors, sortDiagnostics } from '../diagnostics/diagnostic.ts';
import { type DriftedAsset, findDrift } from '../drift/detect.ts';
import { liveLabels, markDrift } from '../drift/mark.ts';
import type { Chunk } from '../embed/chunk.ts';
import { cachedChunks } from '../embed/chunk-cache.ts';
import { attachKnowledge } from '../embed/pipeline.ts';
import { type Chunker, diffChunks, type LiveChunks, readLiveChunks } from '../embed/plan.ts';
import { readDatabaseId } from '../introspect/identity.ts';
import { clashingRows, type LiveSnapshot, readLiveSnapshot } from '../introspect/rows.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { ParseCache } from '../load/cache.ts';
import type { SourceDocument } from '../load/document.ts';
import { checkDirectory, displayPath, listRegistryFiles, readRegistryFile } from '../load/load.ts';
import { defaultLimits, type ParseLimits } from '../load/parse.ts';
import { type MigrationPlan, planMigration } from '../migrate/migrate.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { StateCache } from '../plan/canonical.ts';
import type { DeleteMode, Plan } from '../plan/model.ts';
import { computePlan } from '../plan/plan.ts';
import { shapesOf } from '../plan/shape.ts';
import type { RegistryGraph } from '../resolve/graph.ts';
import { IncrementalResolver } from '../resolve/incremental.ts';
import { compileValidators, type Validators } from '../validate/ajv.ts';
import { type KindedDocument, validateRegistry } from '../validate/validate.ts';
import { bindToDatabase, gitCommitOf } from './plan.ts';

export interface PlanSessionOptions {
  dir: string;
  catalog: KindCatalog;
  schema: SchemaOptions;
  deleteMode: DeleteMode;
  /** File names in diagnostics are relative to this folder (default: the working directory). */
  root?: string;
  limits?: ParseLimits;
  /** Reuse parse results of files from an earlier run (the CLI's .canon/cache), for the first update. */
  cacheDir?: string;
  validators?: Validators;
  /** The registry's git commit; by default asked of git, as `canon plan` does, when a plan's commit or hash is read. */
  gitCommit?: () => string | null;
}

/** What one update gives: the same diagnostics and graph as `checkRegistry`, and the plan `planRegistry` would make. */
export interface SessionResult {
  diagnostics: Diagnostic[];
  graph: RegistryGraph;
  files: number;
  documents: number;
  /** Against the live state of the last `refreshLive`; null before the first one, or while the registry has errors. */
  plan: Plan | null;
  /** Files parsed and assets resolved afresh by this update (the rest were kept). */
  parsedFiles: number;
  resolvedAssets: number;
  /** Reading, parsing and validating the changed files; resolving and checking; planning. */
  timings: { readMs: number; resolveMs: number; planMs: number };
}

export interface PlanSession {
  /**
   * Re-reads the files named (paths as the watcher reports them; added, changed or deleted), and
   * every file when none are named, then re-checks and re-plans. Files that appear in or vanish
   * from the registry folder are noticed either way.
   */
  update(changedPaths?: readonly string[]): SessionResult;
  /** Reads the database's schema and rows once; updates plan against them until the next refresh. */
  refreshLive(db: {
    pool: CommonQueryMethods;
    label: string;
    schema: string;
    schemaConfigured?: boolean;
  }): Promise<void>;
  /** The schema side of the plan, from the last refresh. */
  readonly migration: MigrationPlan | null;
}

interface FileState {
  bytes: Buffer | null;
  documents: SourceDocument[];
  kinded: KindedDocument[];
  diagnostics: Diagnostic[];
}

interface Live {
  label: string;
  /** Canon's schema there. */
  schema: string;
  migration: MigrationPlan;
  snapshot: LiveSnapshot;
  /** Plans are bound to it, as `canon plan`'s are (a saved plan applies to this database only). */
  databaseId: string;
  chunks: LiveChunks;
  /** Managed rows changed outside Canon since the last apply. */
  drift: DriftedAsset[];
}

/**
 * An in-process, incremental `canon plan` for `canon dev`: each file's parse and validation are
 * kept by path, assets are re-resolved only when their document or an id they use changed
 * (IncrementalResolver), and each asset's canonical state is built once (StateCache), so one
 * saved file costs about what that file touches. Results equal a cold `checkRegistry` and
 * `planRegistry` against the same database state (test/db/plan-session.test.ts).
 */
export function createPlanSession(options: PlanSessionOptions): PlanSession {
  const { dir, catalog } = options;
  const root = options.root ?? process.cwd();
  const limits = options.limits ?? defaultLimits;
  const validators = options.validators ?? compileValidators(catalog);
  const shapes = shapesOf(catalog);
  const resolver = new IncrementalResolver(catalog);
  const cache = new StateCache();
  const gitCommit = options.gitCommit ?? (() => gitCommitOf(dir));
  const parseCache = options.cacheDir ? new ParseCache(options.cacheDir) : undefined;
  const files = new Map<string, FileState>();
  let live: Live | null = null;
  const chunker = rememberingChunker(options.cacheDir);

  function readFile(path: string, known: FileState | undefined): FileState {
    let bytes: Buffer | null = null;
    try {
      bytes = readFileSync(path);
    } catch {
      // readRegistryFile reports why.
    }
    if (known && bytes && known.bytes && bytes.equals(known.bytes)) return known;
    const parsed = readRegistryFile(path, displayPath(path, root), limits, parseCache);
    const { documents } = parsed;
    const validated = validateRegistry({ dir, documents, diagnostics: [], files: 1 }, catalog, validators);
    const diagnostics = [...parsed.diagnostics, ...validated.diagnostics];
    return { bytes, documents, kinded: validated.documents, diagnostics };
  }

  function update(changedPaths?: readonly string[]): SessionResult {
    let t = performance.now();
    const lap = () => {
      const now = performance.now();
      const ms = now - t;
      t = now;
      return ms;
    };
    const missing = checkDirectory(dir, root);
    const listed = missing ? [] : listRegistryFiles(dir);
    const changed = changedPaths ? new Set(changedPaths.map((p) => resolve(p))) : null;
    const present = new Set<string>();
    let parsedFiles = 0;
    const states: FileState[] = [];
    for (const path of listed) {
      const key = resolve(path);
      present.add(key);
      const known = files.get(key);
      let state = known;
      if (!known || !changed || changed.has(key)) {
        state = readFile(path, known);
        if (state !== known) parsedFiles++;
        files.set(key, state);
      }
      states.push(state!);
    }
    for (const key of [...files.keys()]) if (!present.has(key)) files.delete(key);
    const readMs = lap();

    const documents = states.reduce((n, s) => n + s.documents.length, 0);
    const resolved = resolver.resolve(states.map((s) => s.kinded));
    const config = loadConfig(dir, root);
    const settings = listed.length > 0 || documents > 0 ? config.diagnostics : [];
    const fileDiagnostics = states.flatMap((s) => s.diagnostics);
    const diagnostics = sortDiagnostics([
      ...(missing ? [missing] : []),
      ...fileDiagnostics,
      ...resolved.diagnostics,
      ...settings,
    ]);
    const resolveMs = lap();

    let plan: Plan | null = null;
    if (live && !hasErrors(diagnostics)) {
      const { snapshot } = live;
      const wanted = () =>
        resolved.graph.assets.map((a) => ({ table: shapes.get(a.kind)!.table, uuid: a.uuid, id: a.id }));
      const unmanaged = snapshot.unmanagedRows.length === 0 ? [] : clashingRows(snapshot, wanted());
      const registry = { assets: snapshot.assets, unmanaged };
      plan = markDrift(
        bindToDatabase(
          computePlan(
            {
              shapes,
              graph: resolved.graph,
              live: registry,
              schema: live.migration.changes,
              database: live.label,
              deleteMode: options.deleteMode,
              gitCommit,
            },
            cache,
          ),
          live.databaseId,
          live.schema,
        ),
        live.drift,
      );
      // Knowledge as `canon plan` has it (chunks, embedding jobs, and their part of the hash).
      const { embeddings, chunking } = config.config;
      const chunks = diffChunks(
        live.chunks,
        {
          graph: resolved.graph,
          catalog,
          live: live.migration.live,
          registryDir: dir,
          chunking,
          embeddings: { ...embeddings, dimensions: options.schema.dimensions },
          vectors: options.schema.embeddings,
        },
        chunker.chunk,
      );
      chunker.forgetUnused();
      attachKnowledge(plan, chunks);
    }
    const planMs = lap();
    return {
      diagnostics,
      graph: resolved.graph,
      files: listed.length,
      documents,
      plan,
      parsedFiles,
      resolvedAssets: resolver.lastResolved,
      timings: { readMs, resolveMs, planMs },
    };
  }

  return {
    update,
    async refreshLive(db) {
      const databaseId = await readDatabaseId(db.pool, db.schema);
      const migration = await planMigration(db, catalog, options.schema);
      const snapshot = await readLiveSnapshot(db.pool, shapes.values(), migration.live);
      const { embeddings } = loadConfig(dir, root).config;
      const chunks = await readLiveChunks(db.pool, {
        catalog,
        live: migration.live,
        embeddings: { ...embeddings, dimensions: options.schema.dimensions },
        vectors: options.schema.embeddings,
      });
      // Drift is found once per refresh, for every managed row: each re-plan marks the updates that overwrite it.
      const drift = await findDrift(db.pool, shapes, snapshot.assets.values(), liveLabels(snapshot.assets));
      live = { label: db.label, schema: db.schema, migration, snapshot, databaseId, drift, chunks };
    },
    get migration() {
      return live?.migration ?? null;
    },
  };
}

/**
 * Chunks kept in memory between saves, keyed by text and settings: a save that does not touch a
 * knowledge source's text does not chunk it again. Texts no longer used are forgotten after each plan.
 */
function rememberingChunker(cacheDir: string | undefined) {
  let kept = new Map<string, Chunk[]>();
  let used = new Map<string, Chunk[]>();
  const chunk: Chunker = (text, format, settings) => {
    const key = createHash('sha256')
      .update(`${format} ${settings.maxTokens}/${settings.overlap}\n`)
      .update(text)
      .digest('hex');
    const chunks = used.get(key) ?? kept.get(key) ?? cachedChunks(cacheDir, text, format, settings);
    used.set(key, chunks);
    return chunks;
  };
  const forgetUnused = () => {
    kept = used;
    used = new Map();
  };
  return { chunk, forgetUnused };
}

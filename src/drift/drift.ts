import type { Database } from '../db/open.ts';
import { setSessionLimits } from '../db/session.ts';
import type { Diagnostic, SourcePosition } from '../diagnostics/diagnostic.ts';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import { readLiveSnapshot } from '../introspect/rows.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { planMigration } from '../migrate/migrate.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { checkRegistryAsync } from '../pipeline/check.ts';
import type { Labeler } from '../plan/fields.ts';
import { shapesOf } from '../plan/shape.ts';
import { desiredState, stateText } from '../plan/state.ts';
import type { ResolvedAsset } from '../resolve/graph.ts';
import type { Validators } from '../validate/ajv.ts';
import { type DriftedAsset, findDrift } from './detect.ts';
import { liveLabels } from './mark.ts';

export interface DriftOptions {
  dir: string;
  catalog: KindCatalog;
  schema: SchemaOptions;
  cacheDir?: string;
  validators?: Validators;
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

/**
 * Where the registry stands on a drifted row: `differs`, a plan would overwrite the change; `matches`,
 * the registry already holds the database's values (after `canon drift --write`: the next apply that
 * writes the row records them); `absent`, the asset is no longer in the registry (a plan deletes it).
 */
export type RegistryStand = 'differs' | 'matches' | 'absent';

export interface DriftEntry extends DriftedAsset {
  registry: RegistryStand;
  source: SourcePosition | null;
  asset?: ResolvedAsset;
}

export type DriftOutcome =
  | { ok: false; diagnostics: Diagnostic[] }
  | {
      ok: true;
      diagnostics: Diagnostic[];
      entries: DriftEntry[];
      /** Managed rows compared (soft-deleted ones are not). */
      managed: number;
      /** Database id → asset id, for every managed row: how --write writes references. */
      label: Labeler;
    };

/**
 * `canon drift`: every managed row changed outside Canon since the last apply, with the fields that
 * changed (what Canon wrote → what the database holds) and where the registry stands on it. Reads
 * only, on one connection; the registry is checked first, as plan does, since --write edits it.
 */
export async function driftRegistry(db: Database, options: DriftOptions): Promise<DriftOutcome> {
  const { cacheDir, validators } = options;
  const checked = await checkRegistryAsync(options.dir, options.catalog, {
    ...(cacheDir ? { cacheDir } : {}),
    ...(validators ? { validators } : {}),
  });
  if (hasErrors(checked.diagnostics)) return { ok: false, diagnostics: checked.diagnostics };
  const shapes = shapesOf(options.catalog);
  return db.pool.connect(async (connection) => {
    await setSessionLimits(connection, options);
    // Also refuses a role that row-level security filters: drift is an operator's command.
    const migration = await planMigration({ ...db, pool: connection }, options.catalog, options.schema);
    const snapshot = await readLiveSnapshot(connection, shapes.values(), migration.live);
    const label = liveLabels(snapshot.assets);
    const drifted = await findDrift(connection, shapes, snapshot.assets.values(), label);
    const entries = drifted.map((d): DriftEntry => {
      const asset = checked.graph.byUuid.get(d.uuid);
      if (!asset) return { ...d, registry: 'absent', source: null };
      const desired = desiredState(shapes.get(asset.kind)!, asset);
      const registry = stateText(desired) === stateText(d.live) ? 'matches' : 'differs';
      return { ...d, registry, source: asset.source, asset };
    });
    const managed = [...snapshot.assets.values()].filter((a) => !a.deleted).length;
    return { ok: true, diagnostics: checked.diagnostics, entries, managed, label };
  });
}

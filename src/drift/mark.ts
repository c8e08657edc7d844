import type { CommonQueryMethods } from 'slonik';
import type { LiveAsset } from '../introspect/rows.ts';
import type { Labeler } from '../plan/fields.ts';
import type { Plan } from '../plan/model.ts';
import type { KindShape } from '../plan/shape.ts';
import { type DriftedAsset, findDrift } from './detect.ts';

/** Database id → the asset's id, for the managed rows read: how drift names references. */
export const liveLabels =
  (live: ReadonlyMap<string, LiveAsset>): Labeler =>
  (uuid) =>
    live.get(uuid)?.state.id ?? uuid;

/**
 * Marks the plan's updates of rows changed outside Canon since the last apply, with the fields whose
 * change the update reverts (a row with no record of what Canon wrote is marked as a whole).
 */
export function markDrift(plan: Plan, drifted: readonly DriftedAsset[]): Plan {
  if (drifted.length === 0) return plan;
  const byUuid = new Map(drifted.map((d) => [d.uuid, d]));
  for (const change of plan.changes) {
    const d = change.action === 'update' && !change.adopt ? byUuid.get(change.uuid) : undefined;
    if (!d) continue;
    // Only what the update changes back: drift the registry already holds is not overwritten.
    const updated = new Set(change.fields.map((f) => f.path));
    const paths = d.applied ? d.fields.map((f) => f.path).filter((p) => updated.has(p)) : [];
    if (paths.length > 0 || !d.applied) change.drift = { paths, updatedAt: d.updatedAt };
  }
  return plan;
}

/**
 * The drift a plan's updates would overwrite: only the rows it updates are checked (the others keep
 * their drift, which `canon drift` reports), so a plan pays nothing for rows it does not touch.
 */
export async function driftOfUpdates(
  db: CommonQueryMethods,
  plan: Plan,
  shapes: ReadonlyMap<string, KindShape>,
  live: ReadonlyMap<string, LiveAsset>,
  label: Labeler,
): Promise<DriftedAsset[]> {
  const updated = plan.changes
    .filter((c) => c.action === 'update' && !c.adopt && !c.restore)
    .map((c) => live.get(c.uuid))
    .filter((a): a is LiveAsset => a !== undefined);
  return updated.length === 0 ? [] : findDrift(db, shapes, updated, label);
}

import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { LiveAsset } from '../introspect/rows.ts';
import { fieldChanges, type Labeler } from '../plan/fields.ts';
import type { FieldChange } from '../plan/model.ts';
import { contentHash } from '../plan/normalize.ts';
import type { KindShape } from '../plan/shape.ts';
import { type AssetState, buildState } from '../plan/state.ts';
import type { Row } from '../resolve/graph.ts';

/** A managed row whose content differs from what Canon last wrote: changed outside Canon. */
export interface DriftedAsset {
  kind: string;
  id: string;
  tenant: string | null;
  uuid: string;
  table: string;
  /** The core row's updated_at (ISO 8601), when the table has one. */
  updatedAt: string | null;
  /** before = what Canon last wrote, after = the database now; in the author's terms, like a plan's fields. */
  fields: FieldChange[];
  /** What Canon last wrote (from entity_versions); absent when it kept no record, and then fields is empty. */
  applied?: AssetState;
  live: AssetState;
}

const lastVersion = z.object({ entity_id: z.string(), data: z.unknown() });
const touched = z.object({ id: z.string(), updated_at: z.string().nullable() });

/** entity_versions keeps an asset as apply wrote it, NULL columns left out; absent columns take their default. */
function appliedState(shape: KindShape, asset: LiveAsset, data: unknown): AssetState | undefined {
  if (!data || typeof data !== 'object') return undefined;
  const { columns, relations } = data as { columns?: Row; relations?: Record<string, Row[]> };
  if (!columns) return undefined;
  const { uuid, id, tenant } = asset.state;
  return buildState(shape, { uuid, id, tenant }, columns, relations ?? {}, true);
}

/**
 * Stage "drift": of these managed rows, the ones changed outside Canon. Cheap when nothing drifted:
 * content is compared with the hash apply recorded, in memory; only rows whose hash differs cost two
 * set-based reads, their last recorded version (entity_versions, what apply wrote: like kubectl's
 * last-applied configuration) and their updated_at. A differing hash with no differing field (a column
 * added to the schema since) is not drift.
 */
export async function findDrift(
  db: CommonQueryMethods,
  shapes: ReadonlyMap<string, KindShape>,
  candidates: Iterable<LiveAsset>,
  label: Labeler,
): Promise<DriftedAsset[]> {
  const suspects = [...candidates].filter((a) => !a.deleted && contentHash(a.state) !== a.recordedHash);
  if (suspects.length === 0) return [];
  const uuids = sql.array(
    suspects.map((a) => a.state.uuid),
    'uuid',
  );
  const versions = new Map(
    (
      await db.any(sql.type(lastVersion)`
        SELECT DISTINCT ON (entity_id) entity_id, data FROM entity_versions
        WHERE entity_id = ANY(${uuids}) ORDER BY entity_id, version DESC`)
    ).map((v) => [v.entity_id, v.data]),
  );
  const updatedAt = new Map<string, string | null>();
  for (const table of new Set(suspects.map((a) => a.table))) {
    const ids = suspects.filter((a) => a.table === table).map((a) => a.state.uuid);
    // Through to_jsonb, so a table without updated_at reads as NULL rather than failing.
    const rows = await db.any(sql.type(touched)`
      SELECT r.id, to_jsonb(r) ->> 'updated_at' AS updated_at FROM ${sql.identifier([table])} AS r
      WHERE r.id = ANY(${sql.array(ids, 'uuid')})`);
    for (const r of rows) updatedAt.set(r.id, r.updated_at);
  }
  const drifted: DriftedAsset[] = [];
  for (const asset of suspects) {
    const shape = shapes.get(asset.state.kind)!;
    const applied = appliedState(shape, asset, versions.get(asset.state.uuid));
    const fields = applied ? fieldChanges(shape, applied, asset.state, label) : [];
    if (applied && fields.length === 0) continue;
    const { kind, id, tenant, uuid } = asset.state;
    const at = updatedAt.get(uuid) ?? null;
    drifted.push({
      kind,
      id,
      tenant,
      uuid,
      table: asset.table,
      updatedAt: at === null ? null : new Date(at).toISOString(),
      fields,
      ...(applied ? { applied } : {}),
      live: asset.state,
    });
  }
  return drifted.sort(
    (a, b) =>
      a.kind.localeCompare(b.kind) || (a.tenant ?? '').localeCompare(b.tenant ?? '') || a.id.localeCompare(b.id),
  );
}

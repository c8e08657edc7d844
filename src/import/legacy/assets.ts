import type { KindModel, RelationModel } from '../../kinds/model.ts';
import { stableJson } from '../../plan/normalize.ts';
import type { AssetKey } from './expressions.ts';

/** A legacy row, as the report names it. */
export interface RowRef {
  source: string;
  key: string;
}

export interface Item {
  value: Record<string, unknown>;
  origin: RowRef;
  /** Made from a row of an `into` source: dropping it changes that row's fate, not just a coercion. */
  ownRow: boolean;
}

/** An asset being assembled from one or more legacy rows. */
export interface Asset extends AssetKey {
  key: string;
  model: KindModel;
  fields: Map<string, { value: unknown; origin: RowRef }>;
  relations: Map<string, Item[]>;
  origins: RowRef[];
  /** Normalized text of each field of the first row, for `merge: {on: …}`. */
  probe: Map<string, string>;
}

export const assetKey = (k: AssetKey) => `${k.kind}\u0000${k.tenant ?? ''}\u0000${k.id}`;
export const label = (k: AssetKey) => `${k.kind} ${k.tenant ? `${k.tenant}/` : ''}${k.id}`;
export const rowKey = (r: RowRef) => `${r.source}\u0000${r.key}`;
export const isAssetKey = (v: unknown): v is AssetKey =>
  typeof v === 'object' && v !== null && 'kind' in v && 'id' in v && 'tenant' in v;

/** An entry's identity within its list: its key properties, references by asset. */
export function entryKey(relation: RelationModel, value: Record<string, unknown>): string {
  return stableJson(
    relation.key.map((k) => (isAssetKey(value[k]) ? assetKey(value[k] as AssetKey) : (value[k] ?? null))),
  );
}

/** Text compared for merging: case, accents and runs of spaces ignored. */
export function probeText(v: unknown): string | undefined {
  if (v === null || v === undefined || typeof v === 'object') return undefined;
  return String(v)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .trim();
}

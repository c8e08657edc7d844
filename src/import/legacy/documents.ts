import type { KindCatalog } from '../../kinds/model.ts';
import { stableJson } from '../../plan/normalize.ts';
import type { ImportedDocument } from '../documents.ts';
import { type Asset, isAssetKey, label } from './assets.ts';
import type { LegacyBuilder } from './build.ts';
import { itemSchemas } from './conform.ts';

const idOf = (v: unknown) => (isAssetKey(v) ? v.id : v);

/**
 * Assets → authoring documents, written like `canon import` writes them: keys in schema order,
 * references as ids, list entries sorted by their key (bare ids where the shorthand allows), values
 * equal to the schema default left out.
 */
export function documentsOf(catalog: KindCatalog, builder: LegacyBuilder): ImportedDocument[] {
  return [...builder.assets.values()]
    .sort((a, b) => (a.key < b.key ? -1 : 1))
    .map((asset) => ({ file: fileOf(asset), id: asset.id, value: documentOf(catalog, asset) }));
}

/**
 * An asset missing a required field cannot be written; the rows it came from are unaccounted for (the
 * mapping needs a skip rule or a value for them). Done before references are checked, so nothing is
 * left pointing at it.
 */
export function dropIncomplete(builder: LegacyBuilder) {
  for (const asset of [...builder.assets.values()]) {
    const missing = asset.model.columns.find((c) => c.required && c.property !== 'id' && !asset.fields.has(c.property));
    if (!missing) continue;
    const reason = `${label(asset)} has no ${missing.property}, which the schema requires`;
    for (const origin of asset.origins) builder.setFate(origin, { outcome: 'unaccounted', reason });
    builder.assets.delete(asset.key);
  }
}

function fileOf(asset: Asset) {
  return `${asset.tenant === null ? 'platform' : `tenants/${asset.tenant}`}/${asset.model.table}.yaml`;
}

function documentOf(catalog: KindCatalog, asset: Asset): Record<string, unknown> {
  const doc: Record<string, unknown> = { kind: asset.kind, id: asset.id };
  for (const property of asset.model.properties) {
    if (property === 'tenant' && asset.tenant !== null) doc.tenant = asset.tenant;
    const field = asset.fields.get(property);
    const column = asset.model.columns.find((c) => c.property === property);
    if (field && !(column?.default !== undefined && field.value === column.default)) doc[property] = idOf(field.value);
    const relation = asset.model.relations.find((r) => r.property === property);
    const list = asset.relations.get(property);
    if (!relation || !list || list.length === 0) continue;
    const order = Object.keys(itemSchemas(catalog, asset.model, property));
    const items = list.map((item) => {
      const out: Record<string, unknown> = {};
      for (const p of order) {
        const v = item.value[p];
        const def = relation.columns.find((c) => c.property === p)?.default;
        if (v !== undefined && !(def !== undefined && v === def)) out[p] = idOf(v);
      }
      return out;
    });
    const keyOf = (x: Record<string, unknown>) => stableJson(relation.key.map((k) => x[k] ?? null));
    items.sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
    doc[property] = items.map((x) => {
      const keys = Object.keys(x);
      return relation.shorthand && keys.length === 1 && keys[0] === relation.shorthand ? x[relation.shorthand] : x;
    });
  }
  return doc;
}

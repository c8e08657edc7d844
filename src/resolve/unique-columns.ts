import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import { locate } from '../load/document.ts';
import type { IndexedAsset } from './index.ts';

/**
 * Columns unique within a tenant (`x-column.unique: tenant`, workflow codes): a value used twice in a
 * kind and tenant is reported on the later asset, as the database's unique constraint would refuse
 * the apply, naming no asset.
 */
export function checkUniqueColumns(entries: readonly IndexedAsset[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, IndexedAsset>();
  for (const entry of entries) {
    const { model, value, doc } = entry.document;
    for (const column of model.columns) {
      if (column.unique !== 'tenant') continue;
      const v = value[column.property];
      if (v === undefined || v === null) continue;
      const key = JSON.stringify([model.kind, entry.tenant, column.property, v]);
      const first = seen.get(key);
      if (!first) {
        seen.set(key, entry);
        continue;
      }
      const owner = entry.tenant ? `tenant '${entry.tenant}'` : 'the platform registry';
      const message =
        `${column.property} ${JSON.stringify(v)} is already used by ${model.kind} '${first.document.value.id}' ` +
        `of ${owner}; it must be unique within a tenant, so choose another`;
      out.push(error(codes.duplicateId, locate(doc, [column.property]), message));
    }
  }
  return out;
}

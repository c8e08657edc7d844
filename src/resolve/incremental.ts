import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { KindCatalog } from '../kinds/model.ts';
import type { KindedDocument, ValidatedRegistry } from '../validate/validate.ts';
import { AssetIndex, indexedAssetOf, type IndexedAsset, type Lookup } from './index.ts';
import { finishResolution, indexAll, resolveEntry, type EntryResolution, type ResolvedRegistry } from './resolve.ts';
import { TenantScope } from './scope.ts';

/** An asset's resolution, with what it depended on: the ids it looked up, and the kinds it listed for a did-you-mean. */
interface Memo {
  resolution: EntryResolution;
  ids: Set<string>;
  listedKinds: Set<string>;
}

/**
 * The resolver for a registry that changes a few documents at a time (`canon dev`). Each asset's
 * resolution is kept with the ids it looked up; after an edit only the assets of changed documents
 * and those that looked up an id a changed document has (or had) are resolved again. A lookup's
 * answer depends only on the documents carrying that id (any kind, any tenant), their visibility
 * and the tenant tree; a failed lookup's did-you-mean depends on every asset of the kind, so those
 * re-resolve when any asset of the kind changes; a changed tenant tree re-resolves everything.
 * The checks that span the registry (duplicates, tenancy rules, cycles) run in full each time.
 * The result equals `resolveRegistry` on the same documents (test/unit/incremental-check.test.ts).
 */
export class IncrementalResolver {
  private memos = new Map<KindedDocument, Memo>();
  private documents = new Set<KindedDocument>();
  private scopeKey = '';
  private readonly entries = new WeakMap<KindedDocument, IndexedAsset>();
  /** How many assets the last call resolved afresh (for benchmarks and tests). */
  lastResolved = 0;

  constructor(private readonly catalog: KindCatalog) {}

  resolve(validated: ValidatedRegistry): ResolvedRegistry {
    const current = new Set(validated.documents);
    const changedIds = new Set<string>();
    const changedKinds = new Set<string>();
    const note = (d: KindedDocument) => { changedIds.add(d.value.id); changedKinds.add(d.model.kind); };
    for (const d of current) if (!this.documents.has(d)) note(d);
    for (const d of this.documents) if (!current.has(d)) note(d);
    this.documents = current;

    const scope = new TenantScope(this.catalog, validated.documents);
    const scopeKey = scope.key();
    if (scopeKey !== this.scopeKey) this.memos.clear();
    this.scopeKey = scopeKey;

    const diagnostics: Diagnostic[] = [];
    const index = new AssetIndex(this.catalog, scope);
    const entryOf = (d: KindedDocument) => {
      let entry = this.entries.get(d);
      if (!entry) this.entries.set(d, (entry = indexedAssetOf(d)));
      return entry;
    };
    const entries = indexAll(validated.documents, index, diagnostics, entryOf);
    const memos = new Map<KindedDocument, Memo>();
    let resolved = 0;
    const resolutions = entries.map((entry) => {
      const known = this.memos.get(entry.document);
      const stale = !known || [...known.ids].some((id) => changedIds.has(id)) || [...known.listedKinds].some((k) => changedKinds.has(k));
      const memo = stale ? this.resolveRecording(entry, index) : known;
      if (stale) resolved++;
      memos.set(entry.document, memo);
      return memo.resolution;
    });
    // Only memos checked against this edit stay: one skipped now (a duplicate) could be stale later.
    this.memos = memos;
    this.lastResolved = resolved;
    return finishResolution(this.catalog, scope, entries, resolutions, diagnostics);
  }

  private resolveRecording(entry: IndexedAsset, index: AssetIndex): Memo {
    const ids = new Set<string>();
    const listedKinds = new Set<string>();
    const recording = {
      lookup(kind: string, id: string, viewer: string | null): Lookup {
        ids.add(id);
        const result = index.lookup(kind, id, viewer);
        if ('missing' in result) listedKinds.add(kind);
        return result;
      },
    };
    return { resolution: resolveEntry(entry, recording), ids, listedKinds };
  }
}

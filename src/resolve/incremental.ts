import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { locate } from '../load/document.ts';
import type { KindedDocument } from '../validate/validate.ts';
import { AssetIndex, type IndexedAsset, indexedAssetOf, type Lookup } from './index.ts';
import {
  type EntryResolution,
  finishResolution,
  identityKey,
  type ResolvedRegistry,
  resolveEntry,
  withoutDuplicates,
} from './resolve.ts';
import { isPublic, sharedWithOf, TenantScope } from './scope.ts';

/** One file's documents, in order. The same array object stands for the same file content. */
export type FileDocuments = readonly KindedDocument[];

/** An asset's resolution, with what it depended on: the ids it looked up, the kinds it listed for a did-you-mean. */
interface Memo {
  resolution: EntryResolution;
  ids: Set<string>;
  listedKinds: Set<string>;
}

/** What the resolver keeps of a document: its index entry, identity key and place. */
interface Placed {
  entry: IndexedAsset;
  key: string;
  file: FileDocuments;
  position: number;
}

/**
 * The resolver for a registry that changes a file at a time (`canon dev`), equal in its results
 * to `resolveRegistry` over the same documents (test/unit/incremental-check.test.ts).
 *
 * It keeps the asset index across edits (a changed file's documents leave and enter it), and each
 * asset's resolution with the ids it looked up. A lookup's answer depends only on the documents
 * carrying that id (any kind, any owner): their kind, owner, database id, visibility and where
 * their id is written (messages point there), in document order, and on the tenant tree. So after
 * an edit an asset is resolved again when its own document changed, or when an id it looked up
 * now means something else; a failed lookup's did-you-mean lists the ids of a kind, so those also
 * re-resolve when any id of the kind changed meaning; a changed tenant tree starts over.
 * Duplicates are re-checked among the documents that share an identity or uuid; tenancy rules and
 * cycles, which span the registry, run in full.
 */
export class IncrementalResolver {
  private files: readonly FileDocuments[] = [];
  private scope: TenantScope | null = null;
  private scopeKey = '';
  private index: AssetIndex | null = null;
  private readonly placed = new Map<KindedDocument, Placed>();
  /** Documents by identity key and by uuid: duplicates can only be among groups of two or more. */
  private readonly byKey = new Map<string, Set<KindedDocument>>();
  private readonly byUuid = new Map<string, Set<KindedDocument>>();
  private readonly memos = new Map<KindedDocument, Memo>();
  /** Id → memos that looked it up; kind → memos that listed its ids. */
  private readonly readers = new Map<string, Set<KindedDocument>>();
  private readonly listers = new Map<string, Set<KindedDocument>>();
  /** How many assets the last call resolved afresh (for benchmarks and tests). */
  lastResolved = 0;

  constructor(private readonly catalog: KindCatalog) {}

  resolve(files: readonly FileDocuments[]): ResolvedRegistry {
    const current = new Set(files);
    const previous = new Set(this.files);
    let added = files.filter((f) => !previous.has(f));
    let removed = this.files.filter((f) => !current.has(f));
    const order = new Map(files.map((f, i) => [f, i]));
    this.files = files;

    // The tenant tree comes from tenant documents only: rebuilt when one of them changed.
    const tenantKind = this.catalog.tenantKind?.kind;
    if (!this.scope || [...added, ...removed].some((f) => f.some((d) => d.model.kind === tenantKind))) {
      const scope = new TenantScope(this.catalog, files.flat());
      if (scope.key() !== this.scopeKey) this.reset(scope);
      this.scope = scope;
      this.scopeKey = scope.key();
    }
    const index = this.index!;
    if (this.placed.size === 0) {
      added = [...files];
      removed = [];
    }

    const touchedIds = new Set<string>();
    for (const f of [...added, ...removed]) for (const d of f) touchedIds.add(d.value.id);
    const before = new Map([...touchedIds].map((id) => [id, this.meaningOf(id)]));
    for (const f of removed) for (const d of f) this.unplace(d);
    for (const f of added) f.forEach((d, position) => this.place(d, f, position));
    const rank = (e: IndexedAsset) => {
      const p = this.placed.get(e.document)!;
      return order.get(p.file)! * 1_000_000 + p.position;
    };
    for (const f of added) for (const d of f) index.insert(this.placed.get(d)!.entry, rank);

    for (const id of touchedIds) {
      const was = before.get(id)!;
      const is = this.meaningOf(id);
      if (was.text === is.text) continue;
      for (const d of [...(this.readers.get(id) ?? [])]) this.forget(d);
      for (const kind of new Set([...was.kinds, ...is.kinds])) {
        for (const d of [...(this.listers.get(kind) ?? [])]) this.forget(d);
      }
    }

    const diagnostics: Diagnostic[] = [];
    const duplicates = this.duplicates(rank, diagnostics);
    const entries: IndexedAsset[] = [];
    const resolutions: EntryResolution[] = [];
    let resolved = 0;
    for (const f of files) {
      for (const d of f) {
        if (duplicates.has(d)) continue;
        const { entry } = this.placed.get(d)!;
        let memo = this.memos.get(d);
        if (!memo) {
          memo = this.remember(d, entry, index);
          resolved++;
        }
        entries.push(entry);
        resolutions.push(memo.resolution);
      }
    }
    this.lastResolved = resolved;
    return finishResolution(this.catalog, this.scope!, entries, resolutions, diagnostics);
  }

  /** Starts over: a new tenant tree changes what any id means to anyone. */
  private reset(scope: TenantScope) {
    this.index = new AssetIndex(this.catalog, scope);
    for (const map of [this.placed, this.byKey, this.byUuid, this.memos, this.readers, this.listers]) map.clear();
  }

  private place(d: KindedDocument, file: FileDocuments, position: number) {
    const entry = indexedAssetOf(d);
    const key = identityKey(entry);
    this.placed.set(d, { entry, key, file, position });
    group(this.byKey, key).add(d);
    group(this.byUuid, entry.uuid).add(d);
  }

  private unplace(d: KindedDocument) {
    const placed = this.placed.get(d);
    if (!placed) return;
    this.forget(d);
    this.index!.remove(placed.entry);
    ungroup(this.byKey, placed.key, d);
    ungroup(this.byUuid, placed.entry.uuid, d);
    this.placed.delete(d);
  }

  /** What looking up this id can answer, as text (equal texts, equal answers and messages); the kinds that carry it. */
  private meaningOf(id: string): { text: string; kinds: string[] } {
    const entries = this.index!.withId(id);
    const text = JSON.stringify(
      entries.map((e) => {
        const at = locate(e.document.doc, ['id']);
        const visibility = [isPublic(e.document), sharedWithOf(this.catalog, e.document)];
        return [e.document.model.kind, e.tenant, e.uuid, visibility, at.file, at.line, at.column];
      }),
    );
    return { text, kinds: entries.map((e) => e.document.model.kind) };
  }

  /**
   * Documents left out as duplicates: decided as `resolveRegistry` does, in document order, among
   * the documents that share an identity key or uuid (the others can never be duplicates).
   */
  private duplicates(rank: (e: IndexedAsset) => number, diagnostics: Diagnostic[]): Set<KindedDocument> {
    const crowded = new Set<KindedDocument>();
    for (const groups of [this.byKey, this.byUuid]) {
      for (const docs of groups.values()) if (docs.size > 1) for (const d of docs) crowded.add(d);
    }
    if (crowded.size === 0) return crowded;
    const entries = [...crowded].map((d) => this.placed.get(d)!.entry).sort((a, b) => rank(a) - rank(b));
    const keyOf = (e: IndexedAsset) => this.placed.get(e.document)!.key;
    const kept = new Set(withoutDuplicates(entries, diagnostics, keyOf).map((e) => e.document));
    return new Set([...crowded].filter((d) => !kept.has(d)));
  }

  private remember(d: KindedDocument, entry: IndexedAsset, index: AssetIndex): Memo {
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
    const memo = { resolution: resolveEntry(entry, recording), ids, listedKinds };
    this.memos.set(d, memo);
    for (const id of ids) group(this.readers, id).add(d);
    for (const kind of listedKinds) group(this.listers, kind).add(d);
    return memo;
  }

  private forget(d: KindedDocument) {
    const memo = this.memos.get(d);
    if (!memo) return;
    this.memos.delete(d);
    for (const id of memo.ids) ungroup(this.readers, id, d);
    for (const kind of memo.listedKinds) ungroup(this.listers, kind, d);
  }
}

function group<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  return set;
}

function ungroup<K, V>(map: Map<K, Set<V>>, key: K, value: V) {
  const set = map.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}

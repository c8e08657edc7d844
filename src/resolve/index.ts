import type { KindCatalog } from '../kinds/model.ts';
import type { KindedDocument } from '../validate/validate.ts';
import { isPublic, sharedWithOf, type TenantScope, tenantOf } from './scope.ts';
import { assetUuid } from './uuid.ts';

export interface IndexedAsset {
  document: KindedDocument;
  tenant: string | null;
  uuid: string;
}

export type Lookup =
  | { found: IndexedAsset }
  | { privateTo: IndexedAsset }
  | { otherKind: IndexedAsset }
  | { missing: true; candidates: string[] };

/** A document's owner and database id: derived from the document alone. */
export function indexedAssetOf(document: KindedDocument): IndexedAsset {
  const tenant = tenantOf(document);
  const explicit = typeof document.value.uuid === 'string' ? document.value.uuid.toLowerCase() : undefined;
  return { document, tenant, uuid: explicit ?? assetUuid(document.model.kind, tenant, document.value.id) };
}

/** Every asset by kind and id, answering "what does this id mean when written by that tenant?". */
export class AssetIndex {
  private readonly byKindAndId = new Map<string, Map<string, IndexedAsset[]>>();
  private readonly byId = new Map<string, IndexedAsset[]>();

  constructor(
    private readonly catalog: KindCatalog,
    private readonly scope: TenantScope,
  ) {}

  /** Adds a document (its entry may be given, when the caller kept it from an earlier index). */
  add(document: KindedDocument, entry: IndexedAsset = indexedAssetOf(document)): IndexedAsset {
    let ids = this.byKindAndId.get(document.model.kind);
    if (!ids) this.byKindAndId.set(document.model.kind, (ids = new Map()));
    append(ids, document.value.id, entry);
    append(this.byId, document.value.id, entry);
    return entry;
  }

  /**
   * Adds an entry where it belongs in document order, given each entry's position (an index kept
   * across edits adds a changed file's documents among those already there).
   */
  insert(entry: IndexedAsset, position: (entry: IndexedAsset) => number): void {
    const { model, value } = entry.document;
    let ids = this.byKindAndId.get(model.kind);
    if (!ids) this.byKindAndId.set(model.kind, (ids = new Map()));
    for (const list of [append(ids, value.id, entry), append(this.byId, value.id, entry)]) {
      if (list.length > 1) list.sort((a, b) => position(a) - position(b));
    }
  }

  remove(entry: IndexedAsset): void {
    const { model, value } = entry.document;
    const ids = this.byKindAndId.get(model.kind);
    if (ids) without(ids, value.id, entry);
    without(this.byId, value.id, entry);
  }

  /** Every entry with this id, of any kind, in document order. */
  withId(id: string): readonly IndexedAsset[] {
    return this.byId.get(id) ?? [];
  }

  /**
   * Resolution order: the writer's own tenant, then its ancestors nearest first, then the platform;
   * then public assets.
   */
  lookup(kind: string, id: string, viewer: string | null): Lookup {
    const sameKind = this.byKindAndId.get(kind)?.get(id) ?? [];
    const global = this.catalog.kinds.get(kind)?.tenancy === 'global';
    if (global && sameKind[0]) return { found: sameKind[0] };
    for (const tenant of this.scope.lineage(viewer)) {
      const hit = sameKind.find((a) => a.tenant === tenant);
      if (hit) return { found: hit };
    }
    const published = sameKind.find(
      (a) => isPublic(a.document) || (viewer !== null && sharedWithOf(this.catalog, a.document).includes(viewer)),
    );
    if (published) return { found: published };
    if (sameKind[0]) return { privateTo: sameKind[0] };
    const other = (this.byId.get(id) ?? []).find((a) => a.document.model.kind !== kind);
    if (other) return { otherKind: other };
    const visible = [...(this.byKindAndId.get(kind)?.values() ?? [])]
      .flat()
      .filter(
        (a) =>
          global || this.scope.canSee(viewer, a.tenant, isPublic(a.document), sharedWithOf(this.catalog, a.document)),
      )
      .map((a) => a.document.value.id);
    return { missing: true, candidates: visible };
  }
}

function append<V>(map: Map<string, V[]>, key: string, value: V): V[] {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
  return list ?? map.get(key)!;
}

function without<V>(map: Map<string, V[]>, key: string, value: V) {
  const list = map.get(key)?.filter((v) => v !== value) ?? [];
  if (list.length > 0) map.set(key, list);
  else map.delete(key);
}

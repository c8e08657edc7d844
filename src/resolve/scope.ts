import type { KindCatalog } from '../kinds/model.ts';
import type { KindedDocument } from '../validate/validate.ts';

/**
 * Which assets an asset may reference. Documented in the README ("Tenancy and visibility"):
 * platform assets (no tenant) are visible to all; a tenant's assets are visible to that tenant and
 * to its descendants; `is_public: true` makes a tenant's asset visible to every tenant, and
 * `shared_with` to the tenants it names. The row-level security policies enforce the same rules.
 */
export class TenantScope {
  private readonly parents = new Map<string, string>();

  constructor(catalog: KindCatalog, documents: readonly KindedDocument[]) {
    const parent = catalog.tenantKind?.parent;
    if (!parent) return;
    for (const d of documents) {
      const value = d.value[parent.property];
      if (d.model.kind === catalog.tenantKind!.kind && typeof value === 'string') this.parents.set(d.value.id, value);
    }
  }

  /** The tenant tree as text: scopes with equal keys answer every question alike. */
  key(): string {
    return JSON.stringify([...this.parents]);
  }

  /** The tenant, then its parent, grandparent … (stops on cycles, which are reported elsewhere). */
  lineage(tenant: string | null): (string | null)[] {
    const chain: (string | null)[] = [];
    const seen = new Set<string>();
    let current = tenant;
    while (current !== null && !seen.has(current)) {
      seen.add(current);
      chain.push(current);
      current = this.parents.get(current) ?? null;
    }
    chain.push(null);
    return chain;
  }

  canSee(viewer: string | null, owner: string | null, isPublic: boolean, sharedWith: readonly string[] = []): boolean {
    return (
      owner === null ||
      isPublic ||
      this.lineage(viewer).includes(owner) ||
      (viewer !== null && sharedWith.includes(viewer))
    );
  }
}

/** The tenants an asset is shared with (its `shared_with` entries), read defensively from the document. */
export function sharedWithOf(catalog: KindCatalog, d: KindedDocument): string[] {
  const entries = catalog.sharingProperty ? d.value[catalog.sharingProperty] : undefined;
  if (!Array.isArray(entries)) return [];
  return entries
    .map((e: unknown) =>
      typeof e === 'string'
        ? e
        : typeof e === 'object' && e && typeof (e as { tenant?: unknown }).tenant === 'string'
          ? (e as { tenant: string }).tenant
          : null,
    )
    .filter((t): t is string => t !== null);
}

export const tenantOf = (d: KindedDocument): string | null =>
  d.model.tenancy === 'tenant' && typeof d.value.tenant === 'string' ? d.value.tenant : null;

export const isPublic = (d: KindedDocument) => d.value.is_public === true;

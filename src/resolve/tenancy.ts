import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { isMapping, locate } from '../load/document.ts';
import type { IndexedAsset } from './index.ts';
import { isPublic, sharedWithOf, type TenantScope } from './scope.ts';

const owner = (tenant: string | null) => (tenant === null ? 'the platform registry' : `tenant '${tenant}'`);

/**
 * The tenancy rules the schemas declare: limits on how many assets of a kind a tenant owns
 * (`x-limit`), references a tenant restricts to a list (`restricts`: allowed industries, inherited
 * from the parent tenant when absent), and tenant overrides of assets the tenant cannot see.
 */
export function checkTenancy(catalog: KindCatalog, scope: TenantScope, entries: readonly IndexedAsset[]): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const tenantKind = catalog.tenantKind?.kind;
  if (!tenantKind) return diagnostics;
  const tenantModel = catalog.kinds.get(tenantKind)!;
  const tenants = new Map(
    entries.filter((e) => e.document.model.kind === tenantKind).map((e) => [e.document.value.id, e]),
  );
  const valid = entries.filter((e) => e.document.valid);

  for (const limit of tenantModel.limits) {
    for (const [id, tenant] of tenants) {
      const max = tenant.document.value[limit.property];
      if (typeof max !== 'number') continue;
      const owned = valid.filter((e) => e.document.model.kind === limit.kind && e.tenant === id).length;
      if (owned > max) {
        diagnostics.push(
          error(
            codes.limitExceeded,
            locate(tenant.document.doc, [limit.property]),
            `tenant '${id}' owns ${owned} ${limit.kind} assets but ${limit.property} is ${max}; ` +
              `raise ${limit.property} or remove ${owned - max} of them`,
          ),
        );
      }
    }
  }

  for (const restriction of tenantModel.references.filter((r) => r.restricts && r.many)) {
    const allowedFor = (tenant: string): { list: string[]; from: string } | undefined => {
      for (const t of scope.lineage(tenant)) {
        if (t === null) return undefined;
        const list = tenants.get(t)?.document.value[restriction.property];
        if (Array.isArray(list)) return { list: list.map(String), from: t };
      }
      return undefined;
    };
    for (const entry of valid) {
      if (entry.tenant === null) continue;
      const allowed = allowedFor(entry.tenant);
      if (!allowed) continue;
      const { model, value, doc } = entry.document;
      const check = (id: unknown, path: (string | number)[]) => {
        if (typeof id === 'string' && !allowed.list.includes(id)) {
          const inherited = allowed.from === entry.tenant ? '' : ` (inherited from tenant '${allowed.from}')`;
          diagnostics.push(
            error(
              codes.notAllowedForTenant,
              locate(doc, path),
              `${restriction.target} '${id}' is not in the ${restriction.property} ` +
                `of tenant '${entry.tenant}'${inherited}: ` +
                `${allowed.list.join(', ') || 'none'}; add it there, or remove this reference`,
            ),
          );
        }
      };
      for (const ref of model.references.filter((r) => r.target === restriction.target)) {
        const raw = value[ref.property];
        if (Array.isArray(raw)) raw.forEach((id, i) => check(id, [ref.property, i]));
        else check(raw, [ref.property]);
      }
      for (const relation of model.relations) {
        const refs = relation.references.filter((r) => r.target === restriction.target);
        const items = value[relation.property];
        if (refs.length === 0 || !Array.isArray(items)) continue;
        items.forEach((item: unknown, i: number) => {
          if (typeof item === 'string' && relation.shorthand && refs.some((r) => r.property === relation.shorthand))
            check(item, [relation.property, i]);
          else if (isMapping(item)) for (const r of refs) check(item[r.property], [relation.property, i, r.property]);
        });
      }
    }
  }

  const audienceRelations = new Map([...catalog.kinds.values()].map((m) => [m, m.relations.filter((r) => r.audience)]));
  for (const entry of valid) {
    const { model, value, doc } = entry.document;
    for (const relation of audienceRelations.get(model) ?? model.relations.filter((r) => r.audience)) {
      const items = value[relation.property];
      if (!Array.isArray(items)) continue;
      items.forEach((item: unknown, i: number) => {
        const tenant =
          typeof item === 'string' && relation.shorthand === relation.audience
            ? item
            : isMapping(item)
              ? item[relation.audience!]
              : undefined;
        if (typeof tenant !== 'string' || !tenants.has(tenant)) return;
        if (scope.canSee(tenant, entry.tenant, isPublic(entry.document), sharedWithOf(catalog, entry.document))) return;
        const path = typeof item === 'string' ? [relation.property, i] : [relation.property, i, relation.audience!];
        diagnostics.push(
          error(
            codes.overrideNotVisible,
            locate(doc, path),
            `tenant '${tenant}' cannot see ${model.kind} '${value.id}' (private to ${owner(entry.tenant)}), ` +
              'so it cannot configure it; share the asset with it (shared_with) or make it public',
          ),
        );
      });
    }
  }
  return diagnostics;
}

import type { KindCatalog, KindModel, RelationModel } from '../kinds/model.ts';
import type { DesiredSchema } from '../migrate/model.ts';
import type { Condition, OwnerColumnsGuard, PolicySpec, RlsSpec, TablePrivileges, TenancyOptions } from './model.ts';

const or = (...items: (Condition | false | undefined)[]): Condition => ({
  kind: 'or',
  items: items.filter((c): c is Condition => Boolean(c)),
});
const and = (...items: Condition[]): Condition => ({ kind: 'and', items });

/**
 * The policies for every table Canon creates, derived from the kind catalog (documented in the
 * README, "Row-level security"):
 * - an asset is visible when it is the platform's, public, the current tenant's or an ancestor's, or
 *   shared with the current tenant; it is writable by its own tenant, and by tenants it is shared
 *   with `can_edit` (content) or `can_delete` (soft delete), never its visibility or lifecycle;
 * - assets are soft-deleted (`deleted_at`): the application may not hard-delete them, because the
 *   foreign keys' ON DELETE actions run past row-level security and would write other tenants'
 *   rows (a fork's parent, another tenant's mappings to a public tool); purging is the platform's;
 * - relation, chunk and other child rows inherit their asset's visibility (the policy reads the
 *   asset's table, whose own policy filters it) and are writable when the asset is editable;
 * - a tenant's overrides are its own: visible and writable only by it, on assets it can see;
 * - Canon's bookkeeping has no policy: applications see none of it.
 */
export function desiredRls(catalog: KindCatalog, schema: DesiredSchema, tenancy: TenancyOptions): RlsSpec {
  const policies: PolicySpec[] = [];
  const privileges: TablePrivileges[] = [];
  const guards: OwnerColumnsGuard[] = [];
  const tenantKind = catalog.tenantKind?.kind;
  const tenantScoped = [...catalog.kinds.values()].filter((k) => k.tenancy === 'tenant');
  const assetTables = [...catalog.kinds.values()].map((k) => k.table).sort();
  const policy = (
    table: string,
    command: PolicySpec['command'],
    spec: Omit<PolicySpec, 'name' | 'table' | 'command'>,
  ) => policies.push({ name: `canon_${command}`, table, command, ...spec });
  const columnsOf = (table: string) => schema.tables.find((t) => t.name === table)!.columns;
  const writable = (table: string) =>
    columnsOf(table)
      .filter((c) => !c.searchOf)
      .map((c) => c.name);
  const grant: Granter = (table, write, immutable, options = {}) =>
    privileges.push({
      table,
      select: true,
      // Never `id`: see TablePrivileges.insert.
      insert: write ? writable(table).filter((c) => c !== 'id') : [],
      delete: write && options.delete !== false,
      update: write ? writable(table).filter((c) => !immutable.includes(c)) : [],
    });

  for (const model of catalog.kinds.values()) {
    if (model.tenancy === 'global') {
      const isTenants = model.kind === tenantKind;
      policy(
        model.table,
        'select',
        isTenants
          ? { using: { kind: 'inTenantLineage', column: 'id' }, grants: ['own', 'ancestors'] }
          : { using: { kind: 'always' }, grants: ['everyone'] },
      );
      grant(model.table, false, []);
      continue;
    }
    const tenantColumn = model.references.find((r) => r.property === 'tenant')!.column;
    const shareable = Boolean(
      catalog.sharingProperty && model.relations.some((r) => r.property === catalog.sharingProperty),
    );
    const shared = (permission: 'can_view' | 'can_edit' | 'can_delete'): Condition | undefined =>
      shareable ? { kind: 'sharedWithMe', idColumn: 'id', permission } : undefined;
    const hasPublic = model.columns.some((c) => c.column === 'is_public');
    policy(model.table, 'select', {
      using: or(
        { kind: 'isNull', column: tenantColumn },
        hasPublic && { kind: 'isTrue', column: 'is_public' },
        { kind: 'inTenantLineage', column: tenantColumn },
        shared('can_view'),
      ),
      grants: [
        'platform',
        ...(hasPublic ? ['public' as const] : []),
        'own',
        'ancestors',
        ...(shared('can_view') ? ['shared-view' as const] : []),
      ],
    });
    const refs = referencesVisible(
      catalog,
      model.references
        .filter((r) => r.property !== 'tenant' && !r.many)
        .map((r) => ({ column: r.column, target: r.target })),
      model.kind,
    );
    policy(model.table, 'insert', {
      withCheck: and({ kind: 'isCurrentTenant', column: tenantColumn }, ...refs),
      grants: ['own'],
    });
    const editable = or({ kind: 'isCurrentTenant', column: tenantColumn }, shared('can_edit'), shared('can_delete'));
    policy(model.table, 'update', {
      using: editable,
      withCheck: and(editable, ...refs),
      grants: ['own', ...(shareable ? ['shared-edit' as const, 'shared-delete' as const] : [])],
    });
    grant(model.table, true, ['id', tenantColumn], { delete: false });
    if (shareable) {
      const table = columnsOf(model.table);
      guards.push({
        table: model.table,
        tenantColumn,
        ownerOnly: [tenantColumn, 'version', ...model.columns.filter((c) => c.ownerOnly).map((c) => c.column)],
        deletedAt: 'deleted_at',
        free: ['updated_at', ...table.filter((c) => c.searchOf).map((c) => c.name)],
      });
    }

    for (const relation of model.relations) {
      if (relation.polymorphic) continue;
      childPolicies(policy, grant, model, relation.table, relation.ownerColumn, relation, catalog);
    }
    if (model.chunks) childPolicies(policy, grant, model, model.chunks.table, model.chunks.owner, undefined, catalog);
  }

  // Sharing rows: the tenant shared with sees its grants; the asset's owner sees and manages them.
  const sharingRelation = tenantScoped.flatMap((k) => k.relations).find((r) => r.polymorphic);
  if (sharingRelation) {
    const sharedWith = sharingRelation.references.find((r) => sharingRelation.key.includes(r.property))!.column;
    // Not a subquery on the asset tables: their policies read asset_sharing, which would recurse.
    const owned: Condition = { kind: 'assetOwnedByMe', column: sharingRelation.ownerColumn };
    policy(sharingRelation.table, 'select', {
      using: or({ kind: 'isCurrentTenant', column: sharedWith }, owned),
      grants: ['shared-with-me', 'owned-asset'],
    });
    // Only with a tenant the sharer can see: the foreign key to tenants is checked past row-level
    // security, so sharing with any tenant id would tell, by failing or not, whether that tenant
    // exists. Sharing across unrelated tenants is the platform's to arrange, in the registry.
    const tenants = catalog.kinds.get(tenantKind!)!.table;
    const recipientVisible: Condition = { kind: 'parentRow', table: tenants, column: sharedWith };
    for (const command of ['insert', 'update', 'delete'] as const) {
      policy(sharingRelation.table, command, {
        ...(command !== 'insert' ? { using: owned } : {}),
        ...(command === 'insert' ? { withCheck: and(owned, recipientVisible) } : {}),
        ...(command === 'update' ? { withCheck: owned } : {}),
        grants: ['owned-asset'],
      });
    }
    grant(sharingRelation.table, true, ['id', sharingRelation.ownerColumn, sharedWith]);
  }
  // Versions of an asset are visible wherever the asset is; only Canon writes them.
  if (schema.tables.some((t) => t.name === 'entity_versions')) {
    policy('entity_versions', 'select', {
      using: { kind: 'anyRow', tables: assetTables, column: 'entity_id' },
      grants: ['visible-parent'],
    });
    grant('entity_versions', false, []);
  }
  const visibility = tenantScoped.map((k) => ({
    table: k.table,
    condition: policies.find((p) => p.table === k.table && p.command === 'select')!.using!,
  }));
  return { tables: schema.tables.map((t) => t.name).sort(), visibility, policies, privileges, guards, tenancy };
}

type PolicyAdder = (
  table: string,
  command: PolicySpec['command'],
  spec: Omit<PolicySpec, 'name' | 'table' | 'command'>,
) => void;
type Granter = (table: string, write: boolean, immutable: string[], options?: { delete?: boolean }) => void;

function childPolicies(
  policy: PolicyAdder,
  grant: Granter,
  owner: KindModel,
  table: string,
  ownerColumn: string,
  relation: RelationModel | undefined,
  catalog: KindCatalog,
) {
  const tenantColumn = owner.references.find((r) => r.property === 'tenant')!.column;
  const shareable = catalog.sharingProperty && owner.relations.some((r) => r.property === catalog.sharingProperty);
  const visible: Condition = { kind: 'parentRow', table: owner.table, column: ownerColumn };
  const editable: Condition = {
    kind: 'parentRow',
    table: owner.table,
    column: ownerColumn,
    where: or(
      { kind: 'isCurrentTenant', column: tenantColumn },
      shareable ? { kind: 'sharedWithMe', idColumn: 'id', permission: 'can_edit' } : undefined,
    ),
  };
  const audience = relation?.audience
    ? relation.references.find((r) => r.property === relation.audience)!.column
    : undefined;
  const refs = referencesVisible(
    catalog,
    (relation?.references ?? [])
      .filter((r) => r.property !== relation?.audience)
      .map((r) => ({ column: r.column, target: r.target })),
  );
  if (audience) {
    // A tenant's own configuration of an asset it can see.
    const mine = and({ kind: 'isCurrentTenant', column: audience }, visible);
    policy(table, 'select', { using: mine, grants: ['own-overrides'] });
    policy(table, 'insert', { withCheck: and(mine, ...refs), grants: ['own-overrides'] });
    policy(table, 'update', { using: mine, withCheck: and(mine, ...refs), grants: ['own-overrides'] });
    policy(table, 'delete', { using: mine, grants: ['own-overrides'] });
    grant(table, true, ['id', ownerColumn, audience]);
    return;
  }
  policy(table, 'select', { using: visible, grants: ['visible-parent'] });
  policy(table, 'insert', { withCheck: and(editable, ...refs), grants: ['editable-parent'] });
  policy(table, 'update', { using: editable, withCheck: and(editable, ...refs), grants: ['editable-parent'] });
  policy(table, 'delete', { using: editable, grants: ['editable-parent'] });
  grant(table, true, ['id', ownerColumn]);
}

/**
 * A written row may only point at assets the tenant can see. Foreign keys are checked past row-level
 * security, and database ids are UUID v5 of kind, tenant and id (guessable): without this, inserting
 * a mapping to another tenant's private asset would succeed, and its success or failure would reveal
 * that the asset exists.
 */
function referencesVisible(
  catalog: KindCatalog,
  refs: { column: string; target: string }[],
  ownKind?: string,
): Condition[] {
  return refs
    .filter((r) => catalog.kinds.get(r.target)!.tenancy === 'tenant')
    .map((r) =>
      or(
        { kind: 'isNull', column: r.column },
        r.target === ownKind
          ? // A policy may not query its own table (a parent agent): ask canon_asset_visible() instead.
            { kind: 'assetVisible', column: r.column }
          : { kind: 'parentRow', table: catalog.kinds.get(r.target)!.table, column: r.column },
      ),
    );
}

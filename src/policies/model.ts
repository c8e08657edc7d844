/**
 * Row-level security as data: conditions are a small expression tree rendered by one function per
 * node kind, so policies can be compared, hashed and explained (which grants they give).
 */
export type Condition =
  | { kind: 'or'; items: Condition[] }
  | { kind: 'and'; items: Condition[] }
  | { kind: 'isNull'; column: string }
  | { kind: 'isTrue'; column: string }
  | { kind: 'always' }
  /** The column equals the current tenant. */
  | { kind: 'isCurrentTenant'; column: string }
  /** The column is the current tenant or one of its ancestors. */
  | { kind: 'inTenantLineage'; column: string }
  /** The row (by `idColumn`) is shared with the current tenant with this permission. */
  | { kind: 'sharedWithMe'; idColumn: string; permission: 'can_view' | 'can_edit' | 'can_delete' }
  /** A visible row of `table` has id = this row's `column`, and satisfies `where` (columns of that row). */
  | { kind: 'parentRow'; table: string; column: string; where?: Condition }
  /** A visible row of any of `tables` has id = this row's `column`, and satisfies `where`. */
  | { kind: 'anyRow'; tables: string[]; column: string; where?: Condition }
  /** The asset whose id is in `column` (of any kind) belongs to the current tenant. */
  | { kind: 'assetOwnedByMe'; column: string }
  /** The asset whose id is in `column` (of any kind) is visible to the current tenant. */
  | { kind: 'assetVisible'; column: string };

export type PolicyCommand = 'select' | 'insert' | 'update' | 'delete';

/** What a policy lets a tenant reach, for plans to tell widening from narrowing. */
export type Grant =
  | 'everyone'
  | 'platform'
  | 'public'
  | 'own'
  | 'ancestors'
  | 'shared-view'
  | 'shared-edit'
  | 'shared-delete'
  | 'visible-parent'
  | 'editable-parent'
  | 'own-overrides'
  | 'owned-asset'
  | 'shared-with-me';

export interface PolicySpec {
  name: string;
  table: string;
  command: PolicyCommand;
  using?: Condition;
  withCheck?: Condition;
  grants: Grant[];
}

export interface TablePrivileges {
  table: string;
  select: boolean;
  /**
   * Columns the application may insert. Never `id`: ids come from the column default, because a
   * chosen id that collides with another tenant's (guessable, UUID v5) id would reveal that it exists.
   */
  insert: string[];
  delete: boolean;
  /** Columns the application may update; ownership columns (id, tenant, owner) never. */
  update: string[];
}

/**
 * A table whose rows can be shared for editing: a trigger keeps a tenant the row is shared with from
 * changing what only the owner decides (policies see the new row only, never what it was).
 */
export interface OwnerColumnsGuard {
  table: string;
  tenantColumn: string;
  /** Visibility, ownership and lifecycle columns: the owner's alone. */
  ownerOnly: string[];
  /** The soft-delete column: the owner's, or a tenant's the row is shared with `can_delete`. */
  deletedAt: string;
  /** Columns anyone who may update the row may change (timestamps, generated columns). */
  free: string[];
}

export interface TenancyOptions {
  /** `session`: the tenant id comes from a setting; `supabase`: from the JWT's claims (auth.jwt()). */
  mode: 'session' | 'supabase';
  /** The session setting holding the current tenant's uuid. */
  setting: string;
  /** The JWT claim holding it, in Supabase mode. */
  claim: string;
  /** The role applications use: neither the tables' owner nor BYPASSRLS. */
  appRole: string;
}

export const defaultTenancy: TenancyOptions = {
  mode: 'session',
  setting: 'app.current_tenant_id',
  claim: 'tenant_id',
  appRole: 'canon_app',
};

export interface RlsSpec {
  /** Every table Canon creates: ENABLE and FORCE ROW LEVEL SECURITY. */
  tables: string[];
  /** Each asset table's visibility rule (its select policy), for canon_asset_visible(). */
  visibility: { table: string; condition: Condition }[];
  policies: PolicySpec[];
  privileges: TablePrivileges[];
  guards: OwnerColumnsGuard[];
  tenancy: TenancyOptions;
}

import type { PolicySpec, TablePrivileges, TenancyOptions } from '../policies/model.ts';
import type { RlsNames } from '../policies/render.ts';
import type { ColumnSpec, ConstraintSpec, CountsViewSpec, IndexSpec, TableSpec } from './model.ts';

/**
 * A typed schema change (drizzle-kit's statements.ts). `destructive` changes can lose data or fail on
 * existing rows; they are listed with a reason and refused unless explicitly allowed.
 */
export type SchemaChange =
  | { kind: 'createExtension'; name: string; destructive: false }
  | { kind: 'createTable'; table: TableSpec; comment: string; columnComments: Record<string, string>; destructive: false }
  | { kind: 'addColumn'; table: string; column: ColumnSpec; comment: string | null; destructive: boolean; reason?: string }
  | { kind: 'replaceGeneratedColumn'; table: string; column: ColumnSpec; comment: string; destructive: false }
  | { kind: 'alterColumnType'; table: string; column: ColumnSpec; from: string; destructive: boolean; reason?: string }
  | { kind: 'setNotNull'; table: string; column: string; destructive: boolean; reason?: string }
  | { kind: 'dropNotNull'; table: string; column: string; destructive: false }
  | { kind: 'setDefault'; table: string; column: ColumnSpec; destructive: false }
  | { kind: 'dropDefault'; table: string; column: string; destructive: false }
  | { kind: 'dropColumn'; table: string; column: string; destructive: true; reason: string }
  | { kind: 'dropConstraint'; table: string; name: string; destructive: false }
  | { kind: 'addConstraint'; constraint: ConstraintSpec; comment: string; destructive: false }
  | { kind: 'dropIndex'; name: string; destructive: false }
  | { kind: 'createIndex'; index: IndexSpec; comment: string; destructive: false }
  | { kind: 'dropView'; name: string; destructive: false }
  | { kind: 'createView'; view: CountsViewSpec; comment: string; destructive: false }
  | { kind: 'dropTable'; table: string; destructive: true; reason: string }
  | { kind: 'createRole'; role: string; destructive: false; policy: true; widens: false }
  | { kind: 'grantSchemaUsage'; role: string; schema: string; destructive: false; policy: true; widens: boolean }
  | { kind: 'createFunction'; function: 'currentTenant' | 'lineage' | 'assetTenant' | 'sharedWithMe' | 'assetVisible'; tenancy: TenancyOptions; names: RlsNames; comment: string; destructive: false; policy: true; widens: false }
  | { kind: 'enableRls'; table: string; destructive: false; policy: true; widens: false }
  | { kind: 'createPolicy'; spec: PolicySpec; names: RlsNames; comment: string; replaces: boolean; destructive: false; policy: true; widens: boolean }
  | { kind: 'dropPolicy'; table: string; name: string; destructive: false; policy: true; widens: false }
  | { kind: 'setPrivileges'; role: string; privileges: TablePrivileges; destructive: false; policy: true; widens: boolean };

/** Changes to row-level security, roles and privileges: shown as policy changes in plans. */
export const isPolicyChange = (c: SchemaChange): boolean => 'policy' in c && c.policy === true;

export type SchemaChangeKind = SchemaChange['kind'];

/** One line per change, for plans and the migrate command. */
export function describeSchemaChange(c: SchemaChange): string {
  switch (c.kind) {
    case 'createExtension': return `create extension ${c.name}`;
    case 'createTable': return `create table ${c.table.name} (${c.table.columns.length} columns)`;
    case 'addColumn': return `add column ${c.table}.${c.column.name}`;
    case 'replaceGeneratedColumn': return `recompute generated column ${c.table}.${c.column.name}`;
    case 'alterColumnType': return `change type of ${c.table}.${c.column.name} from ${c.from}`;
    case 'setNotNull': return `set NOT NULL on ${c.table}.${c.column}`;
    case 'dropNotNull': return `drop NOT NULL on ${c.table}.${c.column}`;
    case 'setDefault': return `set default of ${c.table}.${c.column.name}`;
    case 'dropDefault': return `drop default of ${c.table}.${c.column}`;
    case 'dropColumn': return `drop column ${c.table}.${c.column}`;
    case 'dropConstraint': return `drop constraint ${c.name} on ${c.table}`;
    case 'addConstraint': return `add constraint ${c.constraint.name} on ${c.constraint.table}`;
    case 'dropIndex': return `drop index ${c.name}`;
    case 'createIndex': return `create index ${c.index.name} on ${c.index.table}`;
    case 'dropView': return `drop materialized view ${c.name}`;
    case 'createView': return `create materialized view ${c.view.name}`;
    case 'dropTable': return `drop table ${c.table}`;
    case 'createRole': return `create role ${c.role} (NOLOGIN, not BYPASSRLS)`;
    case 'grantSchemaUsage': return `grant usage on schema ${c.schema} to ${c.role}`;
    case 'createFunction': return `create or replace function ${{ currentTenant: 'canon_current_tenant()', lineage: 'canon_tenant_lineage()', assetTenant: 'canon_asset_tenant(uuid)', sharedWithMe: 'canon_shared_with_me(text)', assetVisible: 'canon_asset_visible(uuid)' }[c.function]}`;
    case 'enableRls': return `enable and force row level security on ${c.table}`;
    case 'createPolicy': return `${c.replaces ? 'replace' : 'create'} policy ${c.spec.name} on ${c.spec.table} for ${c.spec.command} (${c.spec.grants.join(', ')})${c.widens ? ' — widens access' : ''}`;
    case 'dropPolicy': return `drop policy ${c.name} on ${c.table}`;
    case 'setPrivileges': {
      const p = c.privileges;
      const list = [p.select && 'select', p.insert && 'insert', p.delete && 'delete', p.update.length > 0 && `update (${p.update.length} columns)`].filter(Boolean).join(', ') || 'nothing';
      return `grant ${list} on ${p.table} to ${c.role}${c.widens ? ' — widens access' : ''}`;
    }
  }
}

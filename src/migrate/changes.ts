import type { OwnerColumnsGuard, PolicySpec, TablePrivileges } from '../policies/model.ts';
import type { FunctionSpec, RlsNames } from '../policies/render.ts';
import type { ColumnSpec, ConstraintSpec, CountsViewSpec, IndexSpec, TableSpec } from './model.ts';

/**
 * A typed schema change (drizzle-kit's statements.ts). `destructive` changes can lose data or fail on
 * existing rows; they are listed with a reason and refused unless explicitly allowed.
 */
export type SchemaChange =
  | { kind: 'createSchema'; name: string; destructive: false }
  | { kind: 'createExtension'; name: string; destructive: false }
  | {
      kind: 'createTable';
      table: TableSpec;
      comment: string;
      columnComments: Record<string, string>;
      destructive: false;
    }
  | {
      kind: 'addColumn';
      table: string;
      column: ColumnSpec;
      comment: string | null;
      destructive: boolean;
      reason?: string;
    }
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
  | ({ kind: 'grantSchemaUsage'; role: string; schema: string } & PolicyChange)
  | ({
      kind: 'createFunction';
      spec: FunctionSpec;
      names: RlsNames;
      appRole: string;
      revokeFrom: string[];
      comment: string;
    } & PolicyChange)
  | ({ kind: 'dropFunction'; name: string; schema: string } & PolicyChange)
  | ({ kind: 'enableRls'; table: string; schema: string } & PolicyChange)
  | ({ kind: 'createPolicy'; spec: PolicySpec; names: RlsNames; comment: string; replaces: boolean } & PolicyChange)
  | ({ kind: 'dropPolicy'; table: string; name: string; schema: string } & PolicyChange)
  | ({
      kind: 'createTrigger';
      guard: OwnerColumnsGuard;
      names: RlsNames;
      name: string;
      comment: string;
      replaces: boolean;
    } & PolicyChange)
  | ({ kind: 'dropTrigger'; table: string; name: string; schema: string } & PolicyChange)
  | ({ kind: 'setPrivileges'; role: string; privileges: TablePrivileges; schema: string } & PolicyChange);

/**
 * What every row-level-security change says: whether it widens what tenants can reach, and whether it
 * repairs drift (the object was changed outside Canon since its last apply).
 */
interface PolicyChange {
  destructive: false;
  policy: true;
  widens: boolean;
  drift: boolean;
}

/** Changes to row-level security, roles and privileges: shown as policy changes in plans. */
export const isPolicyChange = (c: SchemaChange): boolean => 'policy' in c && c.policy === true;

export type SchemaChangeKind = SchemaChange['kind'];

/** One line per change, for plans and the migrate command. */
export function describeSchemaChange(c: SchemaChange): string {
  switch (c.kind) {
    case 'createSchema':
      return `create schema ${c.name}`;
    case 'createExtension':
      return `create extension ${c.name}`;
    case 'createTable':
      return `create table ${c.table.name} (${c.table.columns.length} columns)`;
    case 'addColumn':
      return `add column ${c.table}.${c.column.name}`;
    case 'replaceGeneratedColumn':
      return `recompute generated column ${c.table}.${c.column.name}`;
    case 'alterColumnType':
      return `change type of ${c.table}.${c.column.name} from ${c.from}`;
    case 'setNotNull':
      return `set NOT NULL on ${c.table}.${c.column}`;
    case 'dropNotNull':
      return `drop NOT NULL on ${c.table}.${c.column}`;
    case 'setDefault':
      return `set default of ${c.table}.${c.column.name}`;
    case 'dropDefault':
      return `drop default of ${c.table}.${c.column}`;
    case 'dropColumn':
      return `drop column ${c.table}.${c.column}`;
    case 'dropConstraint':
      return `drop constraint ${c.name} on ${c.table}`;
    case 'addConstraint':
      return `add constraint ${c.constraint.name} on ${c.constraint.table}`;
    case 'dropIndex':
      return `drop index ${c.name}`;
    case 'createIndex':
      return `create index ${c.index.name} on ${c.index.table}`;
    case 'dropView':
      return `drop materialized view ${c.name}`;
    case 'createView':
      return `create materialized view ${c.view.name}`;
    case 'dropTable':
      return `drop table ${c.table}`;
    case 'createRole':
      return `create role ${c.role} (NOLOGIN, not BYPASSRLS)`;
    case 'grantSchemaUsage':
      return `grant usage on schema ${c.schema} to ${c.role}${flags(c)}`;
    case 'createFunction':
      return `create or replace function ${c.spec.name}(${c.spec.args.join(', ')})${flags(c)}`;
    case 'dropFunction':
      return `drop function ${c.name} (Canon's, no longer used)${flags(c)}`;
    case 'enableRls':
      return `enable and force row level security on ${c.table}${flags(c)}`;
    case 'createPolicy':
      return (
        `${c.replaces ? 'replace' : 'create'} policy ${c.spec.name} on ${c.spec.table} ` +
        `for ${c.spec.command} (${c.spec.grants.join(', ')})${flags(c)}`
      );
    case 'dropPolicy':
      return `drop policy ${c.name} on ${c.table}${flags(c)}`;
    case 'createTrigger':
      return (
        `${c.replaces ? 'replace' : 'create'} trigger ${c.name} on ${c.guard.table} ` +
        `(only the owner changes ${c.guard.ownerOnly.join(', ')})${flags(c)}`
      );
    case 'dropTrigger':
      return `drop trigger ${c.name} on ${c.table}${flags(c)}`;
    case 'setPrivileges': {
      const p = c.privileges;
      const list =
        [
          p.select && 'select',
          p.insert.length > 0 && `insert (${p.insert.length} columns)`,
          p.delete && 'delete',
          p.update.length > 0 && `update (${p.update.length} columns)`,
        ]
          .filter(Boolean)
          .join(', ') || 'nothing';
      return `grant ${list} on ${p.table} to ${c.role}${flags(c)}`;
    }
  }
}

/** The suffixes renderers strip or restyle: keep them in sync with `driftNote` and `widensNote`. */
export const widensNote = ' — widens access';
export const driftNote = ' — drift: changed outside Canon';
const flags = (c: PolicyChange) => `${c.widens ? widensNote : ''}${c.drift ? driftNote : ''}`;

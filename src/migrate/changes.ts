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
  | { kind: 'dropTable'; table: string; destructive: true; reason: string };

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
  }
}

import { createHash } from 'node:crypto';
import { formatSqlType, isWidening } from '../kinds/sql-type.ts';
import type { SchemaChange } from './changes.ts';
import {
  columnDefinition,
  constraintDefinition,
  createIndexStatement,
  createViewStatement,
  sqlText,
} from './fragments.ts';
import type { LiveSchema } from './live.ts';
import type { ColumnSpec, ConstraintSpec, CountsViewSpec, DefaultSpec, DesiredSchema, IndexSpec } from './model.ts';

/** Data questions the diff needs answered to classify a change (does this column hold NULLs?). */
export interface DataProbe {
  nullCount(table: string, column: string): Promise<number>;
  rowCount(table: string): Promise<number>;
}

const hashOf = (text: string) => `canon:${createHash('sha256').update(text).digest('hex').slice(0, 16)}`;

/**
 * Every object Canon creates carries a comment `canon:<hash of the SQL that defines it>`. Comparing
 * hashes tells an unchanged index from one whose definition moved (in the schemas or in Canon's own
 * emitter), without parsing PostgreSQL's reformatted definitions; objects without such a comment are
 * someone else's and left alone.
 */
export function signature(object: ConstraintSpec | IndexSpec | CountsViewSpec): string {
  if ('counts' in object) return hashOf(sqlText(createViewStatement(object)));
  if ('method' in object) return hashOf(sqlText(createIndexStatement(object)));
  return hashOf(`${object.table} ${sqlText(constraintDefinition(object))}`);
}
export const tableComment = (purpose: string) => `canon: ${purpose}`;
const isCanons = (comment: string | null) => comment !== null && comment.startsWith('canon:');

const defaultText: { [K in DefaultSpec['kind']]: (d: Extract<DefaultSpec, { kind: K }>) => string } = {
  boolean: (d) => String(d.value),
  integer: (d) => String(d.value),
  now: () => 'now()',
  randomUuid: () => 'gen_random_uuid()',
};
const textOfDefault = (d: DefaultSpec | undefined) =>
  d ? (defaultText[d.kind] as (d: DefaultSpec) => string)(d) : null;
const columnComment = (c: ColumnSpec) => (c.searchOf ? hashOf(sqlText(columnDefinition(c))) : null);

/** Desired vs live → the changes that bring the live schema to the desired one, in a safe order. */
export async function diffSchema(desired: DesiredSchema, live: LiveSchema, probe: DataProbe): Promise<SchemaChange[]> {
  const changes: SchemaChange[] = [];
  // First: the extension (when new) and every table are created in it.
  if (!live.schema.exists) changes.push({ kind: 'createSchema', name: live.schema.name, destructive: false });
  for (const name of desired.extensions)
    if (!live.extensions.has(name)) changes.push({ kind: 'createExtension', name, destructive: false });

  const retypedTables = new Set<string>();
  const desiredTables = new Set(desired.tables.map((t) => t.name));
  for (const table of desired.tables) {
    const existing = live.tables.get(table.name);
    if (!existing) {
      const columnComments = Object.fromEntries(
        table.columns.filter((c) => c.searchOf).map((c) => [c.name, columnComment(c)!]),
      );
      changes.push({
        kind: 'createTable',
        table,
        comment: tableComment(table.purpose),
        columnComments,
        destructive: false,
      });
      continue;
    }
    for (const column of table.columns) {
      const current = existing.columns.get(column.name);
      if (!current) {
        let reason: string | undefined;
        if (column.notNull && !column.default && !column.searchOf && (await probe.rowCount(table.name)) > 0)
          reason = `${table.name} has rows and the new NOT NULL column has no default`;
        changes.push({
          kind: 'addColumn',
          table: table.name,
          column,
          comment: columnComment(column),
          destructive: reason !== undefined,
          ...(reason ? { reason } : {}),
        });
        continue;
      }
      if (column.searchOf || current.generated) {
        if (!column.searchOf || !current.generated || current.comment !== columnComment(column)) {
          // A derived column: dropping and re-adding it loses nothing.
          changes.push({
            kind: 'replaceGeneratedColumn',
            table: table.name,
            column,
            comment: columnComment(column)!,
            destructive: false,
          });
        }
        continue;
      }
      const wanted = formatSqlType(column.type);
      if (current.formattedType !== wanted) {
        const widening = current.type !== undefined && isWidening(current.type, column.type);
        retypedTables.add(table.name);
        changes.push({
          kind: 'alterColumnType',
          table: table.name,
          column,
          from: current.formattedType,
          destructive: !widening,
          ...(widening ? {} : { reason: `${current.formattedType} → ${wanted} may not hold every existing value` }),
        });
      }
      if (column.notNull && !current.notNull) {
        const nulls = await probe.nullCount(table.name, column.name);
        changes.push({
          kind: 'setNotNull',
          table: table.name,
          column: column.name,
          destructive: nulls > 0,
          ...(nulls > 0 ? { reason: `${nulls} rows hold NULL` } : {}),
        });
      } else if (!column.notNull && current.notNull)
        changes.push({ kind: 'dropNotNull', table: table.name, column: column.name, destructive: false });
      const wantedDefault = textOfDefault(column.default);
      if (wantedDefault !== current.defaultText) {
        if (wantedDefault === null)
          changes.push({ kind: 'dropDefault', table: table.name, column: column.name, destructive: false });
        else changes.push({ kind: 'setDefault', table: table.name, column, destructive: false });
      }
    }
    const wantedColumns = new Set(table.columns.map((c) => c.name));
    for (const name of existing.columns.keys()) {
      if (!wantedColumns.has(name))
        changes.push({
          kind: 'dropColumn',
          table: table.name,
          column: name,
          destructive: true,
          reason: `the column is no longer in the schema; its data would be lost`,
        });
    }
  }

  const wantedConstraints = new Map(desired.constraints.map((c) => [c.name, c]));
  for (const [name, current] of live.constraints) {
    if (!isCanons(current.comment) || !desiredTables.has(current.table)) continue;
    const wanted = wantedConstraints.get(name);
    if (!wanted || signature(wanted) !== current.comment)
      changes.push({ kind: 'dropConstraint', table: current.table, name, destructive: false });
  }
  const wantedIndexes = new Map(desired.indexes.map((i) => [i.name, i]));
  for (const [name, current] of live.indexes) {
    if (!isCanons(current.comment) || !desiredTables.has(current.table)) continue;
    const wanted = wantedIndexes.get(name);
    if (!wanted || signature(wanted) !== current.comment) changes.push({ kind: 'dropIndex', name, destructive: false });
  }
  const ordered = [...desired.constraints].sort(
    (a, b) => Number(a.kind === 'foreignKey') - Number(b.kind === 'foreignKey'),
  );
  for (const constraint of ordered) {
    const current = live.constraints.get(constraint.name);
    if (!current || current.comment !== signature(constraint))
      changes.push({ kind: 'addConstraint', constraint, comment: signature(constraint), destructive: false });
  }
  for (const index of desired.indexes) {
    const current = live.indexes.get(index.name);
    if (!current || current.comment !== signature(index))
      changes.push({ kind: 'createIndex', index, comment: signature(index), destructive: false });
  }
  for (const view of desired.views) {
    const current = live.views.get(view.name);
    const touched = [view.base.table, ...view.counts.map((c) => c.table)].some((t) => retypedTables.has(t));
    if (current && (current.comment !== signature(view) || touched))
      changes.push({ kind: 'dropView', name: view.name, destructive: false });
    if (!current || current.comment !== signature(view) || touched)
      changes.push({ kind: 'createView', view, comment: signature(view), destructive: false });
  }
  for (const [name, current] of live.tables) {
    if (isCanons(current.comment) && !desiredTables.has(name))
      changes.push({
        kind: 'dropTable',
        table: name,
        destructive: true,
        reason: 'the table is no longer in the schema; its rows would be lost',
      });
  }
  return order(changes);
}

const phase: Record<SchemaChange['kind'], number> = {
  createSchema: -1,
  createExtension: 0,
  dropView: 1,
  dropPolicy: 1,
  dropTrigger: 1,
  dropConstraint: 2,
  dropIndex: 3,
  createTable: 4,
  addColumn: 5,
  replaceGeneratedColumn: 5,
  alterColumnType: 6,
  setDefault: 7,
  dropDefault: 7,
  dropNotNull: 8,
  setNotNull: 8,
  addConstraint: 9,
  createIndex: 10,
  createView: 11,
  createRole: 12,
  grantSchemaUsage: 13,
  createFunction: 14,
  enableRls: 15,
  createPolicy: 16,
  createTrigger: 16,
  setPrivileges: 17,
  // After the policies that called it were replaced.
  dropFunction: 17,
  dropColumn: 18,
  dropTable: 19,
};

/** Drops of dependants first, then creation, constraints after all tables exist, destructive drops last. */
export function order(changes: SchemaChange[]): SchemaChange[] {
  return changes
    .map((c, i) => ({ c, i }))
    .sort((a, b) => phase[a.c.kind] - phase[b.c.kind] || a.i - b.i)
    .map(({ c }) => c);
}

import type { SqlType } from '../kinds/sql-type.ts';
import type { ColumnSpec, ConstraintSpec, DesiredSchema, IndexSpec, OnDelete, TableSpec } from './model.ts';

export const uuid: SqlType = { name: 'uuid' };
export const timestamptz: SqlType = { name: 'timestamptz' };
export const idColumn: ColumnSpec = { name: 'id', type: uuid, notNull: true, default: { kind: 'randomUuid' } };
export const timestamps: ColumnSpec[] = [
  { name: 'created_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
  { name: 'updated_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
];

/** A schema builder that keeps constraint and index names unique and short enough for PostgreSQL (63 bytes). */
export class SchemaBuilder {
  readonly schema: DesiredSchema = { extensions: [], tables: [], constraints: [], indexes: [], views: [] };
  private readonly names = new Set<string>();

  name(parts: string[], suffix: string): string {
    let name = `${parts.join('_')}_${suffix}`;
    if (name.length > 63) name = `${name.slice(0, 54)}_${hash(name)}`;
    if (this.names.has(name)) throw new Error(`duplicate schema object name ${name}`);
    this.names.add(name);
    return name;
  }
  table(spec: TableSpec) {
    this.schema.tables.push(spec);
  }
  constraint(spec: ConstraintSpec) {
    this.schema.constraints.push(spec);
  }
  index(spec: Omit<IndexSpec, 'unique' | 'nullsNotDistinct' | 'method'> & Partial<IndexSpec>) {
    this.schema.indexes.push({ method: 'btree', unique: false, nullsNotDistinct: false, ...spec });
  }
  foreignKey(table: string, column: string, refTable: string, onDelete: OnDelete) {
    this.constraint({
      kind: 'foreignKey',
      name: this.name([table, column], 'fkey'),
      table,
      columns: [column],
      refTable,
      refColumns: ['id'],
      onDelete,
    });
    this.index({ name: this.name([table, column], 'idx'), table, columns: [{ column }] });
  }
}

function hash(text: string): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0');
}

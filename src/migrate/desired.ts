import type { ColumnModel, KindCatalog, KindModel, ReferenceModel, RelationModel } from '../kinds/model.ts';
import type { SqlType } from '../kinds/sql-type.ts';
import { idColumn, SchemaBuilder, timestamps, timestamptz, uuid } from './builder.ts';
import type { ColumnSpec, CountsViewSpec, DesiredSchema, OnDelete, SchemaOptions } from './model.ts';
import { platformTables } from './platform-tables.ts';

const columnSpec = (c: ColumnModel): ColumnSpec => ({
  name: c.column,
  type: c.type,
  notNull: c.required,
  ...(c.default === undefined
    ? {}
    : {
        default:
          typeof c.default === 'boolean'
            ? { kind: 'boolean', value: c.default }
            : { kind: 'integer', value: c.default },
      }),
});

const referenceSpec = (r: ReferenceModel): ColumnSpec => ({
  name: r.column,
  type: r.many ? { name: 'uuid', array: true } : uuid,
  notNull: r.required,
});

/**
 * Compiles the kind catalog into the registry's database schema. Every table, column, constraint
 * and index comes from the schemas' annotations; only Canon's own bookkeeping tables are fixed.
 */
export function desiredSchema(catalog: KindCatalog, options: SchemaOptions): DesiredSchema {
  const b = new SchemaBuilder();
  if (options.embeddings) b.schema.extensions.push('vector');
  const tableOf = (kind: string) => catalog.kinds.get(kind)!.table;
  for (const model of [...catalog.kinds.values()].sort((x, y) => x.table.localeCompare(y.table))) {
    coreTable(b, model, tableOf);
    for (const relation of model.relations) {
      if (relation.polymorphic && b.schema.tables.some((t) => t.name === relation.table)) continue;
      relationTable(b, model, relation, tableOf);
    }
    if (model.chunks) chunksTable(b, model, options);
    if (model.analytics) b.schema.views.push(countsView(catalog, model));
  }
  platformTables(b);
  return b.schema;
}

function coreTable(b: SchemaBuilder, model: KindModel, tableOf: (kind: string) => string) {
  const t = model.table;
  const columns: ColumnSpec[] = [idColumn];
  for (const c of model.columns) columns.push(columnSpec(c));
  for (const r of model.references) columns.push(referenceSpec(r));
  if (model.search.length > 0) {
    const sources = model.search.map((p) => model.columns.find((c) => c.property === p)!.column);
    columns.push({ name: 'search_vector', type: { name: 'tsvector' }, notNull: false, searchOf: sources });
  }
  columns.push(
    { name: 'version', type: { name: 'integer' }, notNull: true, default: { kind: 'integer', value: 1 } },
    ...timestamps,
    { name: 'deleted_at', type: timestamptz, notNull: false },
  );
  b.table({ name: t, columns, primaryKey: ['id'], purpose: `${model.kind} assets` });
  const tenantRef = model.references.find((r) => r.property === 'tenant');
  // The seed declares unique_id both UNIQUE and UNIQUE(unique_id, tenant_id): the first forbids two
  // tenants the same id, the second never fires for shared rows (NULL tenant_id is distinct from
  // NULL). One key per tenant with NULLS NOT DISTINCT says what is meant.
  const idColumnName = model.columns.find((c) => c.property === 'id')!.column;
  b.constraint({
    kind: 'unique',
    name: b.name([t, idColumnName], 'key'),
    table: t,
    columns: tenantRef ? [idColumnName, tenantRef.column] : [idColumnName],
    nullsNotDistinct: true,
  });
  for (const c of model.columns) {
    if (c.enum) enumCheck(b, t, c.column, c.enum);
    else if (c.required && c.type.name !== 'boolean' && (c.type.name === 'varchar' || c.type.name === 'text')) {
      b.constraint({
        kind: 'check',
        name: b.name([t, c.column], 'not_empty'),
        table: t,
        check: { kind: 'nonEmpty', column: c.column },
      });
    }
    // The seed's global `code UNIQUE` collides across tenants; codes are unique within a tenant.
    if (c.unique === 'tenant') {
      b.index({
        name: b.name([t, c.column, 'tenant'], 'key'),
        table: t,
        columns: [{ column: c.column }, ...(tenantRef ? [{ column: tenantRef.column }] : [])],
        unique: true,
        nullsNotDistinct: true,
        where: { kind: 'isNotNull', column: c.column },
      });
    }
  }
  for (const r of model.references) {
    if (r.many) continue;
    const onDelete: OnDelete = r.onDelete ?? (r.property === 'tenant' ? 'restrict' : 'set null');
    if (r.property !== 'tenant') b.foreignKey(t, r.column, tableOf(r.target), onDelete);
    else
      b.constraint({
        kind: 'foreignKey',
        name: b.name([t, r.column], 'fkey'),
        table: t,
        columns: [r.column],
        refTable: tableOf(r.target),
        refColumns: ['id'],
        onDelete,
      });
  }
  // Not partial: row-level security filters on tenant_id for every row, deleted or not.
  if (tenantRef)
    b.index({ name: b.name([t, tenantRef.column], 'idx'), table: t, columns: [{ column: tenantRef.column }] });
  if (model.search.length > 0)
    b.index({ name: b.name([t, 'search'], 'idx'), table: t, method: 'gin', columns: [{ column: 'search_vector' }] });
}

function relationTable(b: SchemaBuilder, owner: KindModel, relation: RelationModel, tableOf: (kind: string) => string) {
  const t = relation.table;
  const columns: ColumnSpec[] = [idColumn, { name: relation.ownerColumn, type: uuid, notNull: true }];
  for (const c of relation.columns) columns.push(columnSpec(c));
  for (const r of relation.references) columns.push(referenceSpec(r));
  columns.push(...timestamps);
  b.table({
    name: t,
    columns,
    primaryKey: ['id'],
    purpose: relation.polymorphic ? `${relation.property} of every kind` : `${owner.kind}.${relation.property}`,
  });
  const keyColumns = relation.key.map(
    (k) =>
      relation.references.find((r) => r.property === k)?.column ??
      relation.columns.find((c) => c.property === k)!.column,
  );
  b.constraint({
    kind: 'unique',
    name: b.name([t, 'entry'], 'key'),
    table: t,
    columns: [relation.ownerColumn, ...keyColumns],
    nullsNotDistinct: true,
  });
  // A polymorphic owner (asset_sharing.asset_id) may be a row of any kind's table: no foreign key;
  // ids are unique across kinds (UUID v5 of kind, tenant and id), so one column is enough.
  if (!relation.polymorphic)
    b.constraint({
      kind: 'foreignKey',
      name: b.name([t, relation.ownerColumn], 'fkey'),
      table: t,
      columns: [relation.ownerColumn],
      refTable: owner.table,
      refColumns: ['id'],
      onDelete: 'cascade',
    });
  for (const r of relation.references) {
    b.foreignKey(
      t,
      r.column,
      tableOf(r.target),
      relation.key.includes(r.property) || r.required ? 'cascade' : 'set null',
    );
  }
  for (const c of relation.columns) {
    if (c.enum) enumCheck(b, t, c.column, c.enum);
  }
}

function chunksTable(b: SchemaBuilder, model: KindModel, options: SchemaOptions) {
  const { table: t, owner } = model.chunks!;
  const columns: ColumnSpec[] = [
    idColumn,
    { name: owner, type: uuid, notNull: true },
    { name: 'chunk_index', type: { name: 'integer' }, notNull: true },
    { name: 'content', type: { name: 'text' }, notNull: true },
    { name: 'content_hash', type: { name: 'text' }, notNull: true },
    { name: 'section_title', type: { name: 'varchar', length: 500 }, notNull: false },
    { name: 'page_number', type: { name: 'integer' }, notNull: false },
    { name: 'metadata', type: { name: 'jsonb' }, notNull: false },
    { name: 'token_count', type: { name: 'integer' }, notNull: false },
    { name: 'embedding_model', type: { name: 'varchar', length: 100 }, notNull: false },
    ...(options.embeddings
      ? [{ name: 'embedding', type: { name: 'vector', dimensions: options.dimensions } as SqlType, notNull: false }]
      : []),
    { name: 'search_vector', type: { name: 'tsvector' }, notNull: false, searchOf: ['content'] },
    { name: 'created_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
  ];
  b.table({ name: t, columns, primaryKey: ['id'], purpose: `text chunks of ${model.kind} assets, with embeddings` });
  b.constraint({
    kind: 'unique',
    name: b.name([t, owner, 'chunk_index'], 'key'),
    table: t,
    columns: [owner, 'chunk_index'],
    nullsNotDistinct: false,
  });
  b.constraint({
    kind: 'foreignKey',
    name: b.name([t, owner], 'fkey'),
    table: t,
    columns: [owner],
    refTable: model.table,
    refColumns: ['id'],
    onDelete: 'cascade',
  });
  // HNSW rather than the seed's ivfflat: ivfflat built on an empty table learns its lists from no
  // data and recalls poorly until rebuilt; HNSW needs no training and stays good as rows arrive.
  if (options.embeddings)
    b.index({
      name: b.name([t, 'embedding'], 'idx'),
      table: t,
      method: 'hnsw',
      columns: [{ column: 'embedding', opclass: 'vector_cosine_ops' }],
    });
  b.index({ name: b.name([t, 'search'], 'idx'), table: t, method: 'gin', columns: [{ column: 'search_vector' }] });
  // Apply takes a vector over from any row holding the same text (a moved paragraph is not re-embedded).
  b.index({ name: b.name([t, 'content_hash'], 'idx'), table: t, columns: [{ column: 'content_hash' }] });
}

/** Counts per row of every relation owned by the kind and every relation of other kinds that references it. */
function countsView(catalog: KindCatalog, model: KindModel): CountsViewSpec {
  const counts: CountsViewSpec['counts'] = [];
  for (const relation of model.relations)
    counts.push({ alias: `${relation.property}_count`, table: relation.table, column: relation.ownerColumn });
  for (const other of catalog.kinds.values()) {
    if (other === model) continue;
    for (const relation of other.relations) {
      const ref = relation.references.find((r) => r.target === model.kind && relation.key.includes(r.property));
      if (ref) counts.push({ alias: `${relation.table}_count`, table: relation.table, column: ref.column });
    }
  }
  const label = model.columns.find((c) => c.property === 'name')?.column ?? 'unique_id';
  return { name: model.analytics!.view, base: { table: model.table, label }, counts };
}

/** A column limited to the schema's enum: a CHECK (… IN …), for asset and relation columns alike. */
function enumCheck(b: SchemaBuilder, table: string, column: string, values: string[]) {
  b.constraint({ kind: 'check', name: b.name([table, column], 'check'), table, check: { kind: 'in', column, values } });
}

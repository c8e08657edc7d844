import { idColumn, timestamptz, uuid, type SchemaBuilder } from './builder.ts';

/**
 * Tables that belong to the platform rather than to one kind: version history and Canon's own
 * bookkeeping. They are Canon's infrastructure, so they are fixed here, not in schemas/. (Asset
 * sharing is the `shared_with` relation of the schemas: one row per asset and tenant, where the seed
 * kept a `shared_with_tenant_ids UUID[]` that cannot be indexed, constrained or checked per tenant.)
 */
export function platformTables(b: SchemaBuilder) {
  b.table({
    name: 'entity_versions',
    columns: [
      idColumn,
      { name: 'entity_type', type: { name: 'varchar', length: 50 }, notNull: true },
      { name: 'entity_id', type: uuid, notNull: true },
      { name: 'version', type: { name: 'integer' }, notNull: true },
      { name: 'data', type: { name: 'jsonb' }, notNull: true },
      { name: 'apply_id', type: uuid, notNull: false },
      { name: 'created_by', type: { name: 'text' }, notNull: false },
      { name: 'created_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
    ],
    primaryKey: ['id'],
    purpose: 'every version of every asset, written by apply',
  });
  b.constraint({ kind: 'unique', name: 'entity_versions_entity_version_key', table: 'entity_versions', columns: ['entity_id', 'version'], nullsNotDistinct: false });

  b.table({
    name: 'canon_applies',
    columns: [
      idColumn,
      { name: 'plan_hash', type: { name: 'text' }, notNull: true },
      { name: 'git_commit', type: { name: 'text' }, notNull: false },
      { name: 'creates', type: { name: 'integer' }, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'updates', type: { name: 'integer' }, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'deletes', type: { name: 'integer' }, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'schema_changes', type: { name: 'integer' }, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'duration_ms', type: { name: 'integer' }, notNull: false },
      { name: 'canon_version', type: { name: 'text' }, notNull: true },
      { name: 'applied_by', type: { name: 'text' }, notNull: false },
      { name: 'started_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
      { name: 'finished_at', type: timestamptz, notNull: false },
    ],
    primaryKey: ['id'],
    purpose: "Canon's history of applies",
  });

  b.table({
    name: 'canon_managed_rows',
    columns: [
      { name: 'table_name', type: { name: 'text' }, notNull: true },
      { name: 'row_id', type: uuid, notNull: true },
      { name: 'kind', type: { name: 'text' }, notNull: true },
      { name: 'asset_id', type: { name: 'text' }, notNull: true },
      { name: 'tenant', type: { name: 'text' }, notNull: false },
      { name: 'content_hash', type: { name: 'text' }, notNull: true },
      { name: 'apply_id', type: uuid, notNull: false },
      { name: 'applied_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
    ],
    primaryKey: ['table_name', 'row_id'],
    purpose: 'rows Canon owns (only these may be updated or deleted by apply), with their content hash',
  });
  b.constraint({ kind: 'foreignKey', name: 'canon_managed_rows_apply_id_fkey', table: 'canon_managed_rows', columns: ['apply_id'], refTable: 'canon_applies', refColumns: ['id'], onDelete: 'set null' });

  b.table({
    name: 'canon_rls_fingerprints',
    columns: [
      { name: 'object', type: { name: 'text' }, notNull: true },
      { name: 'fingerprint', type: { name: 'text' }, notNull: true },
      { name: 'recorded_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
    ],
    primaryKey: ['object'],
    purpose: 'row-level security objects as PostgreSQL held them after the last apply, to detect drift',
  });
}

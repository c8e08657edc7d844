import { idColumn, type SchemaBuilder, timestamptz, uuid } from './builder.ts';

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
  b.constraint({
    kind: 'unique',
    name: 'entity_versions_entity_version_key',
    table: 'entity_versions',
    columns: ['entity_id', 'version'],
    nullsNotDistinct: false,
  });

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
  b.constraint({
    kind: 'foreignKey',
    name: 'canon_managed_rows_apply_id_fkey',
    table: 'canon_managed_rows',
    columns: ['apply_id'],
    refTable: 'canon_applies',
    refColumns: ['id'],
    onDelete: 'set null',
  });

  embeddingJobsTable(b);

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

/**
 * The embedding queue: one job per (chunk, text hash, model, dimensions), enqueued by apply in its
 * transaction and worked by `canon embed`, which leases jobs (state 'leased' until leased_until) so
 * any number of workers share it; a job whose lease expired is taken again. Done jobs stay, so an
 * identical job is not enqueued twice; failed ones keep their last error until retried.
 */
function embeddingJobsTable(b: SchemaBuilder) {
  const text = { name: 'text' } as const;
  const integer = { name: 'integer' } as const;
  b.table({
    name: 'canon_embedding_jobs',
    columns: [
      idColumn,
      { name: 'chunk_table', type: text, notNull: true },
      { name: 'chunk_id', type: uuid, notNull: true },
      { name: 'content_hash', type: text, notNull: true },
      { name: 'model', type: text, notNull: true },
      { name: 'dimensions', type: integer, notNull: true },
      { name: 'token_count', type: integer, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'state', type: text, notNull: true },
      { name: 'attempts', type: integer, notNull: true, default: { kind: 'integer', value: 0 } },
      { name: 'run_after', type: timestamptz, notNull: true, default: { kind: 'now' } },
      { name: 'leased_until', type: timestamptz, notNull: false },
      { name: 'leased_by', type: text, notNull: false },
      { name: 'last_error', type: text, notNull: false },
      { name: 'apply_id', type: uuid, notNull: false },
      { name: 'enqueued_at', type: timestamptz, notNull: true, default: { kind: 'now' } },
      { name: 'finished_at', type: timestamptz, notNull: false },
    ],
    primaryKey: ['id'],
    purpose: 'embedding jobs: one per chunk text, model and dimensions, leased by canon embed workers',
  });
  b.constraint({
    kind: 'unique',
    name: 'canon_embedding_jobs_key',
    table: 'canon_embedding_jobs',
    columns: ['chunk_table', 'chunk_id', 'content_hash', 'model', 'dimensions'],
    nullsNotDistinct: false,
  });
  b.constraint({
    kind: 'check',
    name: 'canon_embedding_jobs_state_check',
    table: 'canon_embedding_jobs',
    check: { kind: 'in', column: 'state', values: ['queued', 'leased', 'done', 'failed'] },
  });
  b.index({
    name: 'canon_embedding_jobs_claim_idx',
    table: 'canon_embedding_jobs',
    columns: [{ column: 'state' }, { column: 'run_after' }],
  });
}

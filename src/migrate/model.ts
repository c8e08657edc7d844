import type { SqlType } from '../kinds/sql-type.ts';
import type { TenancyOptions } from '../policies/model.ts';
import type { Fragment } from './fragments.ts';

/**
 * The database schema as data: what Canon wants (compiled from the kind catalog) and what the live
 * catalog has (introspected) share these types, so the diff compares like with like.
 */
export type DefaultSpec =
  | { kind: 'boolean'; value: boolean }
  | { kind: 'integer'; value: number }
  | { kind: 'now' }
  | { kind: 'randomUuid' };

export interface ColumnSpec {
  name: string;
  type: SqlType;
  notNull: boolean;
  default?: DefaultSpec;
  /** A stored generated full-text column over these text columns. */
  searchOf?: string[];
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  /** Why the table exists, for its comment. */
  purpose: string;
}

export type OnDelete = 'cascade' | 'set null' | 'restrict';

export type CheckSpec = { kind: 'in'; column: string; values: string[] } | { kind: 'nonEmpty'; column: string };

export type ConstraintSpec =
  | { kind: 'unique'; name: string; table: string; columns: string[]; nullsNotDistinct: boolean }
  | {
      kind: 'foreignKey';
      name: string;
      table: string;
      columns: string[];
      refTable: string;
      refColumns: string[];
      onDelete: OnDelete;
    }
  | { kind: 'check'; name: string; table: string; check: CheckSpec };

export interface IndexSpec {
  name: string;
  table: string;
  method: 'btree' | 'gin' | 'hnsw';
  columns: { column: string; opclass?: 'vector_cosine_ops' }[];
  unique: boolean;
  nullsNotDistinct: boolean;
  where?: { kind: 'isNull' | 'isNotNull'; column: string };
}

/** A materialized view of per-row counts of related rows (the seed's persona_analytics). */
export interface CountsViewSpec {
  name: string;
  base: { table: string; label: string };
  counts: { alias: string; table: string; column: string }[];
}

export interface DesiredSchema {
  extensions: string[];
  tables: TableSpec[];
  constraints: ConstraintSpec[];
  indexes: IndexSpec[];
  views: CountsViewSpec[];
}

export interface SchemaOptions {
  /** Build the vector column, its index and the pgvector extension. */
  embeddings: boolean;
  /** Dimension of the embedding vectors (from configuration; the seed hard-codes 1536). */
  dimensions: number;
  /**
   * Where the current tenant comes from, and the application role (default: the session setting
   * app.current_tenant_id, role canon_app).
   */
  tenancy?: TenancyOptions;
  /** The PostgreSQL schema Canon's objects go into (canon.yaml `schema:`, --schema); absent: current_schema(). */
  pgSchema?: string;
}

export const defaultSchemaOptions: SchemaOptions = { embeddings: true, dimensions: 1536 };

/** A schema statement with the change it makes, as plans' SQL comments name it. */
export interface DescribedStatement {
  /** "schema: replace policy canon_select on agents … (drift: changed outside Canon)". */
  purpose: string;
  statement: Fragment;
}

/**
 * The kind catalog: what every later stage knows about asset kinds, derived from the `x-…` annotations
 * of schemas/*.schema.json. Nothing in src/ lists kinds, tables or columns; they all come from here.
 */
import type { SqlType } from './sql-type.ts';

export type Tenancy = 'tenant' | 'global';

export interface ColumnModel {
  /** The authored property name. */
  property: string;
  /** The database column name. */
  column: string;
  /** The SQL type, parsed from the annotation (`varchar(100)`, `jsonb`, `numeric(5,2)`, `text[]` …). */
  type: SqlType;
  /** A required property: the column is NOT NULL. */
  required: boolean;
  default?: boolean | number;
  /** The schema's enum, enforced by a CHECK constraint too. */
  enum?: string[];
  /** `tenant`: unique within a tenant when set (e.g. workflow codes). */
  unique?: 'tenant';
}

export interface ReferenceModel {
  property: string;
  column: string;
  /** The kind of the referenced asset. */
  target: string;
  /** An array of ids stored in a `uuid[]` column. */
  many: boolean;
  /** References of this property must not form a cycle (parents, dependencies). */
  acyclic: boolean;
  onDelete?: 'cascade' | 'set null' | 'restrict';
  required: boolean;
}

/** A list property stored as rows of its own table, keyed by the owning asset. */
export interface RelationModel {
  property: string;
  table: string;
  ownerColumn: string;
  /** The item property that a bare id stands for (`prompts: [a, b]` means `[{prompt: a}, {prompt: b}]`). */
  shorthand?: string;
  /** Item properties identifying an entry within its owner. */
  key: string[];
  acyclic: boolean;
  columns: ColumnModel[];
  references: ReferenceModel[];
  /** Boolean item properties of which at most one entry may be true (`primary`). */
  atMostOne: string[];
}

export interface KindModel {
  kind: string;
  table: string;
  tenancy: Tenancy;
  /** Properties indexed for full-text search. */
  search: string[];
  schemaId: string;
  /** The schema file, relative to the working directory. */
  file: string;
  /** Every property an author may write, for suggestions. */
  properties: string[];
  columns: ColumnModel[];
  references: ReferenceModel[];
  relations: RelationModel[];
  /** The `<entity>_tenant` table where a tenant enables a shared asset with its own configuration. */
  overrides?: { table: string; owner: string };
  /** The table of text chunks (and embeddings) owned by assets of this kind. */
  chunks?: { table: string; owner: string };
  /** A materialized view counting this kind's relations. */
  analytics?: { view: string };
}

export interface KindCatalog {
  /** The schema documents as read, keyed by `$id`. */
  schemas: ReadonlyMap<string, JsonSchema>;
  kinds: ReadonlyMap<string, KindModel>;
  /** The kind that `tenant:` refers to (Tenant), and its self-reference forming the hierarchy. */
  tenantKind?: { kind: string; parent?: ReferenceModel };
}

export type JsonSchema = { [key: string]: unknown };

/** The annotation keywords Canon adds to JSON Schema; ajv is told they are annotations. */
export const annotationKeywords = ['x-canon', 'x-column', 'x-ref', 'x-relation', 'x-at-most-one'] as const;

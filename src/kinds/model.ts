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
  /** An array column whose schema says `uniqueItems`: a set, so the order of its items means nothing. */
  set?: true;
  /** The schema's enum, enforced by a CHECK constraint too. */
  enum?: string[];
  /** `tenant`: unique within a tenant when set (e.g. workflow codes). */
  unique?: 'tenant';
  /**
   * Visibility or lifecycle (`is_public`, `is_active`): only the owning tenant may change it, not a
   * tenant the asset is shared with for editing.
   */
  ownerOnly?: true;
}

export interface ReferenceModel {
  property: string;
  column: string;
  /** The kind of the referenced asset. */
  target: string;
  /** An array of ids stored in a `uuid[]` column. */
  many: boolean;
  /** A list with `uniqueItems`: a set of references, compared without regard to order. */
  set?: true;
  /** References of this property must not form a cycle (parents, dependencies). */
  acyclic: boolean;
  onDelete?: 'cascade' | 'set null' | 'restrict';
  required: boolean;
  /**
   * On the tenant kind: assets of the tenant may only reference the listed assets of the target kind
   * (allowed industries).
   */
  restricts?: boolean;
}

/** A tenant property that caps how many assets of a kind the tenant may own (`max_agents`). */
export interface LimitModel {
  property: string;
  kind: string;
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
  /** One table shared by every kind with this relation (asset_sharing): its owner column has no foreign key. */
  polymorphic: boolean;
  /** An item property naming a tenant that must be able to see the owning asset (a tenant override). */
  audience?: string;
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
  /** On the tenant kind: properties capping how many assets of a kind a tenant may own. */
  limits: LimitModel[];
  /** The table of text chunks (and embeddings) owned by assets of this kind. */
  chunks?: ChunksModel;
  /** A materialized view counting this kind's relations. */
  analytics?: { view: string };
}

export interface KindCatalog {
  /** The schema documents as read, keyed by `$id`. */
  schemas: ReadonlyMap<string, JsonSchema>;
  kinds: ReadonlyMap<string, KindModel>;
  /** The kind that `tenant:` refers to (Tenant), and its self-reference forming the hierarchy. */
  tenantKind?: { kind: string; parent?: ReferenceModel };
  /** The relation property, on every tenant-scoped kind, that shares an asset with other tenants. */
  sharingProperty?: string;
}

export type JsonSchema = { [key: string]: unknown };

/** The annotation keywords Canon adds to JSON Schema; ajv is told they are annotations. */
export const annotationKeywords = ['x-canon', 'x-column', 'x-ref', 'x-relation', 'x-at-most-one', 'x-limit'] as const;

/** Where a kind's chunked text comes from: properties of the asset (x-canon.chunks). */
export interface ChunksModel {
  table: string;
  owner: string;
  /** The property holding inline text. */
  text?: string;
  /** The property holding a file path, relative to the registry folder. */
  file?: string;
  /** The property naming the text's format (markdown, text, html, json, csv). */
  format?: string;
}

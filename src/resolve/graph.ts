import type { SourcePosition } from '../diagnostics/diagnostic.ts';

export type Row = Record<string, unknown>;

/** An asset with every reference resolved to a database id: the shape introspection also produces. */
export interface ResolvedAsset {
  kind: string;
  id: string;
  /** The owning tenant's id, or null for the shared platform registry. */
  tenant: string | null;
  uuid: string;
  /** The author gave `uuid:` (claiming an existing row), rather than Canon deriving it. */
  explicitUuid: boolean;
  source: SourcePosition;
  /** The core table's row by column name (`id`, `unique_id`, `tenant_id`, authored columns). */
  row: Row;
  /** The rows this asset owns in each relation table, by table name. */
  relations: Record<string, Row[]>;
}

export interface RegistryGraph {
  assets: ResolvedAsset[];
  byUuid: ReadonlyMap<string, ResolvedAsset>;
}

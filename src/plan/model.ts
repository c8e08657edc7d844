import type { Diagnostic, SourcePosition } from '../diagnostics/diagnostic.ts';
import { type KnowledgeSummary, knowledgeChanges } from '../embed/summary.ts';
import type { SchemaChange } from '../migrate/changes.ts';
import type { PathSegment } from './path.ts';
import type { AssetState } from './state.ts';

export type ChangeAction = 'create' | 'update' | 'delete';

/** One field's change, in the author's terms: property paths, ids instead of database ids. */
export interface FieldChange {
  /** `segments` as printed (formatPath): keys with dots, brackets or spaces quoted. */
  path: string;
  segments: PathSegment[];
  before: unknown;
  after: unknown;
  /** A JSON key whose value is null that is added (absent before) or removed (absent after). */
  absent?: 'before' | 'after';
}

/** A typed change to one asset. Rendering and SQL compilation both read this; neither recomputes it. */
export interface AssetChange {
  action: ChangeAction;
  kind: string;
  id: string;
  tenant: string | null;
  uuid: string;
  table: string;
  /** Where the asset is written (absent for deletes: it is no longer in the registry). */
  source: SourcePosition | null;
  fields: FieldChange[];
  /** The version the asset has after apply. */
  version: number;
  before?: AssetState;
  after?: AssetState;
  /** A soft-deleted asset that is back in the registry. */
  restore?: boolean;
  /** An existing row that the registry claims by its explicit uuid. */
  adopt?: boolean;
  /**
   * The row was changed in the database since the last apply (outside Canon), and this update
   * overwrites that: the fields changed there, and the row's updated_at. See `canon drift`.
   */
  drift?: ChangeDrift;
}

export interface ChangeDrift {
  paths: string[];
  updatedAt: string | null;
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
}

export type DeleteMode = 'soft' | 'hard';

export interface Plan {
  formatVersion: '1';
  database: string;
  deleteMode: DeleteMode;
  /** The registry's git commit, when planned in a git checkout; recorded with the apply. */
  gitCommit: string | null;
  schema: SchemaChange[];
  changes: AssetChange[];
  summary: PlanSummary;
  /** Hash of the registry's content: a saved plan is stale when the registry moved. */
  registryHash: string;
  /** Hash of the live rows the plan was computed from: stale when the database moved. */
  liveHash: string;
  /**
   * Which database the plan was made against (system identifier, database, schema; hashed). Set by
   * the pipeline, which also binds planHash to it: a saved plan applies only where it was made.
   */
  databaseId?: string;
  /** The PostgreSQL schema the plan is for (Canon's schema there); set with databaseId. */
  databaseSchema?: string;
  /** Hash of everything above: what `canon apply plan.json` checks before applying. */
  planHash: string;
  /** Problems that make the plan unappliable (rows Canon does not own in the way). */
  diagnostics: Diagnostic[];
  /** Knowledge chunks to write and embedding jobs to enqueue. */
  knowledge?: KnowledgeSummary;
}

export const hasChanges = (plan: Plan) =>
  plan.schema.length > 0 || plan.changes.length > 0 || knowledgeChanges(plan.knowledge) > 0;

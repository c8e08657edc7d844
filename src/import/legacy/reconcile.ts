/** The reconciliation report's model: what became of every legacy row. */

export type Outcome =
  | { outcome: 'imported'; asset: string }
  | { outcome: 'merged'; asset: string; reason: string }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'unaccounted'; reason: string };

export interface RowFate {
  source: string;
  key: string;
  fate: Outcome;
}

export interface Coercion {
  source: string;
  key: string;
  /** `Kind id` of the asset the row became. */
  asset: string;
  field: string;
  reason: string;
}

export interface SourceSummary {
  source: string;
  kind: string;
  read: number;
  imported: number;
  merged: number;
  skipped: number;
  unaccounted: number;
  coerced: number;
}

export interface Reconciliation {
  rows: RowFate[];
  coercions: Coercion[];
  /** Rows read per source, counted by the database in the same snapshot, to check nothing was lost. */
  counted: Map<string, number>;
}

export function summarize(r: Reconciliation, kinds: Map<string, string>): SourceSummary[] {
  return [...r.counted.keys()].map((source) => {
    const rows = r.rows.filter((x) => x.source === source);
    const count = (o: Outcome['outcome']) => rows.filter((x) => x.fate.outcome === o).length;
    const read = r.counted.get(source)!;
    const accounted = rows.length;
    return {
      source,
      kind: kinds.get(source) ?? '',
      read,
      imported: count('imported'),
      merged: count('merged'),
      skipped: count('skipped'),
      unaccounted: count('unaccounted') + Math.max(0, read - accounted),
      coerced: new Set(r.coercions.filter((c) => c.source === source).map((c) => c.key)).size,
    };
  });
}

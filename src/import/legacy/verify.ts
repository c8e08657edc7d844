import type { Database } from '../../db/open.ts';
import type { KindCatalog, KindModel } from '../../kinds/model.ts';
import { normalizeValue, stableJson } from '../../plan/normalize.ts';
import { type ImportedDocument, importDocuments } from '../documents.ts';
import { readImportSnapshot } from '../read.ts';
import type { LegacyImport } from './legacy.ts';

export interface VerifiedSource {
  source: string;
  read: number;
  /** Rows that became (or were merged into) an asset. */
  expected: number;
  /** Of those, rows whose asset is in the target with exactly the values the mapping gives. */
  matching: number;
  differing: number;
  missing: number;
  skipped: number;
}

export interface Verification {
  sources: VerifiedSource[];
  /** Per asset that is not as expected: what differs. */
  problems: { asset: string; problem: string }[];
  ok: boolean;
}

const labelOf = (d: ImportedDocument) => {
  const v = d.value as { kind: string; tenant?: string; id: string };
  return `${v.kind} ${v.tenant ? `${v.tenant}/` : ''}${v.id}`;
};

/** A document's fields in comparable form: columns normalized as plan compares them, no uuid. */
function comparable(model: KindModel | undefined, doc: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'uuid') continue;
    const column = model?.columns.find((c) => c.property === k);
    const typed = column && !(typeof v === 'string' && !column.type.array) ? normalizeValue(v, column.type) : v;
    out.set(k, stableJson(typed));
  }
  return out;
}

/**
 * The seed's "validation scripts": the target database, read back as `canon import` reads it, against
 * what the mapping makes of the source, asset by asset and field by field, reported per source table.
 */
export async function verifyLegacy(
  target: Database,
  catalog: KindCatalog,
  result: LegacyImport,
): Promise<Verification> {
  const live = await readImportSnapshot(target, catalog);
  const actual = new Map(importDocuments(catalog, live, { all: true }).documents.map((d) => [labelOf(d), d]));
  const status = new Map<string, string | null>();
  const problems: Verification['problems'] = [];
  for (const doc of result.documents) {
    const asset = labelOf(doc);
    const found = actual.get(asset);
    if (!found) {
      status.set(asset, 'missing');
      problems.push({ asset, problem: 'not in the target database' });
      continue;
    }
    const model = catalog.kinds.get(String(doc.value.kind));
    const want = comparable(model, doc.value);
    const have = comparable(model, found.value);
    const fields = [...new Set([...want.keys(), ...have.keys()])].filter((k) => want.get(k) !== have.get(k)).sort();
    status.set(asset, fields.length > 0 ? 'differs' : null);
    for (const f of fields)
      problems.push({
        asset,
        problem: `${f}: expected ${want.get(f) ?? 'nothing'}, found ${have.get(f) ?? 'nothing'}`,
      });
  }
  const sources = result.summary.map((s) => {
    const rows = result.reconciliation.rows.filter((r) => r.source === s.source);
    const v: VerifiedSource = {
      source: s.source,
      read: s.read,
      expected: 0,
      matching: 0,
      differing: 0,
      missing: 0,
      skipped: 0,
    };
    for (const r of rows) {
      if (r.fate.outcome === 'skipped') v.skipped++;
      if (r.fate.outcome !== 'imported' && r.fate.outcome !== 'merged') continue;
      v.expected++;
      const st = status.get(r.fate.asset);
      if (st === null) v.matching++;
      else if (st === 'differs') v.differing++;
      else v.missing++;
    }
    return v;
  });
  return { sources, problems, ok: problems.length === 0 && sources.every((s) => s.matching === s.expected) };
}

import type { Database } from '../../db/open.ts';
import type { KindCatalog } from '../../kinds/model.ts';
import type { ImportedDocument } from '../documents.ts';
import { label } from './assets.ts';
import { LegacyBuilder } from './build.ts';
import { documentsOf, dropIncomplete } from './documents.ts';
import { type LegacyMapping, sourceName } from './mapping.ts';
import { readLegacy } from './read.ts';
import { type Reconciliation, type SourceSummary, summarize } from './reconcile.ts';
import { checkReferences } from './references.ts';

export interface LegacyImport {
  documents: ImportedDocument[];
  reconciliation: Reconciliation;
  summary: SourceSummary[];
  /** Tables the mapping names that the source database does not have (read as empty). */
  missingTables: string[];
  /** Every row has a fate other than unaccounted, and every row counted was seen. */
  complete: boolean;
}

/** `canon import --legacy`: read the source (read-only), map, check references and cycles, reconcile. */
export async function importLegacy(
  source: Database,
  catalog: KindCatalog,
  mapping: LegacyMapping,
  schema: string,
): Promise<LegacyImport> {
  const legacy = await readLegacy(source, mapping, schema);
  const builder = new LegacyBuilder(catalog, mapping, legacy);
  builder.build();
  dropIncomplete(builder);
  checkReferences(builder);
  const documents = documentsOf(catalog, builder);
  // The cross-check: a row said to be imported or merged must have an asset that is written.
  const written = new Set([...builder.assets.values()].map((a) => label(a)));
  for (const row of builder.reconciliation().rows) {
    const { fate } = row;
    if ((fate.outcome === 'imported' || fate.outcome === 'merged') && !written.has(fate.asset))
      builder.setFate(row, { outcome: 'unaccounted', reason: `its asset ${fate.asset} was not written` });
  }
  const reconciliation = builder.reconciliation();
  const kinds = new Map(
    mapping.sources.map((s) => [sourceName(s), s.kind ?? (s.into ? `→ ${s.into.source}.${s.into.property}` : '—')]),
  );
  const summary = summarize(reconciliation, kinds);
  return {
    documents,
    reconciliation,
    summary,
    missingTables: legacy.missing,
    complete: summary.every((s) => s.unaccounted === 0),
  };
}

import type { Database } from '../db/open.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { type ImportFilter, type ImportResult, importDocuments } from './documents.ts';
import { readImportSnapshot } from './read.ts';
import { writeImport } from './write.ts';

export interface ImportOutcome extends ImportResult {
  files: string[];
}

/**
 * `canon import`: the database's asset rows → YAML under `out`. Reads in one READ ONLY transaction,
 * so it sees one consistent snapshot and can never write the database it reads.
 */
export async function importRegistry(
  db: Database,
  catalog: KindCatalog,
  out: string,
  filter: ImportFilter,
): Promise<ImportOutcome> {
  const source = await readImportSnapshot(db, catalog);
  const result = importDocuments(catalog, source, filter);
  return { ...result, files: writeImport(out, result.documents) };
}

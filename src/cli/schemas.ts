import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKindCatalog } from '../kinds/catalog.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { UsageError } from './io.ts';

/** Canon's own schemas/, next to src/ in the installed package. */
export const bundledSchemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

/** `--schemas` if given, else ./schemas when the working directory has one, else Canon's own. */
export function catalogFor(schemasOption: string | undefined): KindCatalog {
  if (schemasOption !== undefined && !statSync(schemasOption, { throwIfNoEntry: false })?.isDirectory()) {
    const hint = 'pass the folder that holds the *.schema.json files';
    throw new UsageError(`canon: --schemas ${schemasOption}: no such folder; ${hint}.`);
  }
  const dir = schemasOption ?? (existsSync('schemas') ? 'schemas' : bundledSchemasDir);
  return loadKindCatalog(dir);
}

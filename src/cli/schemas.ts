import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadKindCatalog } from '../kinds/catalog.ts';
import type { KindCatalog } from '../kinds/model.ts';

/** Canon's own schemas/, next to src/ in the installed package. */
export const bundledSchemasDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'schemas');

/** `--schemas` if given, else ./schemas when the working directory has one, else Canon's own. */
export function catalogFor(schemasOption: string | undefined): KindCatalog {
  const dir = schemasOption ?? (existsSync('schemas') ? 'schemas' : bundledSchemasDir);
  return loadKindCatalog(dir);
}

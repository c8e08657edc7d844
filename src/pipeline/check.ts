import { loadConfig } from '../config/config.ts';
import { type Diagnostic, sortDiagnostics } from '../diagnostics/diagnostic.ts';
import { checkSourceTexts } from '../embed/check-sources.ts';
import type { KindCatalog } from '../kinds/model.ts';
import { type LoadedRegistry, type LoadOptions, loadRegistry, loadRegistryAsync } from '../load/load.ts';
import type { RegistryGraph } from '../resolve/graph.ts';
import { resolveRegistry } from '../resolve/resolve.ts';
import type { Validators } from '../validate/ajv.ts';
import { validateRegistry } from '../validate/validate.ts';

export interface CheckResult {
  graph: RegistryGraph;
  diagnostics: Diagnostic[];
  files: number;
  documents: number;
  timings: { loadMs: number; validateMs: number; resolveMs: number };
}

/** The front half of the compiler: load → validate → resolve, every stage's diagnostics sorted together. */
export function checkRegistry(
  dir: string,
  catalog: KindCatalog,
  options: LoadOptions & { validators?: Validators } = {},
): CheckResult {
  const t0 = performance.now();
  return checkLoaded(loadRegistry(dir, options), catalog, options, t0);
}

/** checkRegistry with a large registry's files parsed on worker threads (loadRegistryAsync); the same result. */
export async function checkRegistryAsync(
  dir: string,
  catalog: KindCatalog,
  options: LoadOptions & { validators?: Validators } = {},
): Promise<CheckResult> {
  const t0 = performance.now();
  return checkLoaded(await loadRegistryAsync(dir, options), catalog, options, t0);
}

function checkLoaded(
  loaded: LoadedRegistry,
  catalog: KindCatalog,
  options: LoadOptions & { validators?: Validators },
  t0: number,
): CheckResult {
  const { dir } = loaded;
  const t1 = performance.now();
  const validated = validateRegistry(loaded, catalog, options.validators);
  const t2 = performance.now();
  const resolved = resolveRegistry(validated, catalog);
  const t3 = performance.now();
  // The settings file is checked with the registry: a mistake there would otherwise surface only
  // when a database is opened.
  const settings =
    loaded.files > 0 || loaded.documents.length > 0 ? loadConfig(dir, options.root, options.limits).diagnostics : [];
  return {
    graph: resolved.graph,
    diagnostics: sortDiagnostics([
      ...loaded.diagnostics,
      ...validated.diagnostics,
      ...resolved.diagnostics,
      ...settings,
      ...checkSourceTexts(validated.documents, dir),
    ]),
    files: loaded.files,
    documents: loaded.documents.length,
    timings: { loadMs: t1 - t0, validateMs: t2 - t1, resolveMs: t3 - t2 },
  };
}

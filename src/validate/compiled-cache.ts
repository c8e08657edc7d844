import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ValidateFunction } from 'ajv';
import { annotationKeywords, type KindCatalog } from '../kinds/model.ts';
import { compileValidatorModule, compileValidators, type Validators } from './ajv.ts';
import { ajvOptions } from './ajv-options.ts';

/** Bump when the shape of a cached module changes. */
const formatVersion = '1';
/** Entries not rewritten for this long are removed when a new one is written (schemas changed). */
const maxAgeMs = 30 * 24 * 3600 * 1000;

// This folder's ajv and ajv-formats (ajv.ts sits beside this file): the cached code requires their
// runtime helpers from here, so it works from any working directory.
const requireFrom = import.meta.url;

function cacheKey(catalog: KindCatalog): string {
  const require = createRequire(requireFrom);
  const versionOf = (name: string) => `${name}@${(require(`${name}/package.json`) as { version: string }).version}`;
  const parts = [formatVersion, versionOf('ajv'), versionOf('ajv-formats'), JSON.stringify(ajvOptions)];
  parts.push(annotationKeywords.join(','), requireFrom);
  for (const id of [...catalog.schemas.keys()].sort()) parts.push(JSON.stringify(catalog.schemas.get(id)));
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/**
 * The catalog's validators, compiled by ajv once per version of the schemas (and of ajv) and kept in
 * `dir` as ajv's standalone code: importing that module costs a few milliseconds where compiling
 * costs hundreds. Without `dir`, or when the cache cannot be read or written, they are compiled.
 * The cached functions are ajv's own generated code, so they report exactly the same errors.
 */
export async function cachedValidators(catalog: KindCatalog, dir: string | undefined): Promise<Validators> {
  if (dir === undefined) return compileValidators(catalog);
  const key = cacheKey(catalog);
  const path = join(dir, `${key}.mjs`);
  const cached = await importCached(path, catalog);
  if (cached) return cached;
  const { validators, source } = compileValidatorModule(catalog, requireFrom);
  store(dir, path, source);
  return validators;
}

async function importCached(path: string, catalog: KindCatalog): Promise<Validators | undefined> {
  try {
    const module = (await import(pathToFileURL(path).href)) as { validators?: Record<string, ValidateFunction> };
    const validators = new Map(Object.entries(module.validators ?? {}));
    const complete = [...catalog.kinds.keys()].every((kind) => typeof validators.get(kind) === 'function');
    return complete ? validators : undefined;
  } catch {
    return undefined; // missing, or damaged and then replaced
  }
}

function store(dir: string, path: string, source: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    // Through a temporary file and a rename, so a concurrent run never imports half a module.
    const temporary = `${path}.${process.pid}.tmp`;
    writeFileSync(temporary, source);
    renameSync(temporary, path);
  } catch {
    return; // a cache that cannot be written only costs speed
  }
  pruneOlderThan(dir, Date.now() - maxAgeMs);
}

function pruneOlderThan(dir: string, oldest: number): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    try {
      const path = join(dir, name);
      if (statSync(path).mtimeMs < oldest) rmSync(path, { force: true });
    } catch {
      // removed by a concurrent run
    }
  }
}

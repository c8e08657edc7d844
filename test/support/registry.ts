import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ApplyOptions, applyRegistry } from '../../src/apply/apply.ts';
import type { Database } from '../../src/db/open.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { planRegistry } from '../../src/pipeline/plan.ts';
import type { Backend } from './databases.ts';
import { tempDir } from './temp.ts';

export const catalog = loadKindCatalog('schemas');

/** A private copy of a registry folder that a test may edit. */
export function copyRegistry(from = 'registry'): string {
  const dir = join(tempDir('canon-reg-'), 'registry');
  cpSync(from, dir, { recursive: true });
  return dir;
}

/** Replaces text in a registry file, failing loudly when the text is not there (a test edit that silently does nothing proves nothing). */
export function edit(dir: string, file: string, from: string, to: string) {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
}

export function options(dir: string, embeddings: boolean, extra: Partial<ApplyOptions> = {}): ApplyOptions {
  return {
    dir,
    catalog,
    schema: { embeddings, dimensions: 8 },
    deleteMode: 'soft',
    statementTimeoutMs: 60_000,
    lockTimeoutMs: 5_000,
    allowDelete: false,
    allowDestructive: false,
    ...extra,
  };
}

export async function plan(db: Database, dir: string, embeddings: boolean, extra: Partial<ApplyOptions> = {}) {
  const outcome = await planRegistry(db, options(dir, embeddings, extra));
  if (!outcome.ok) throw new Error(`registry invalid: ${outcome.diagnostics.map((d) => d.message).join('; ')}`);
  return outcome;
}

export const apply = (db: Database, dir: string, embeddings: boolean, extra: Partial<ApplyOptions> = {}) =>
  applyRegistry(db, options(dir, embeddings, extra));

/**
 * A database of its own in which the example registry is applied, as `apply(db, copyRegistry(),
 * backend.vector)` leaves a new one: the preparation runs once per test file, each test gets a copy.
 */
export const openApplied = (backend: Backend) =>
  backend.openPrepared('example registry applied', async (db) => {
    const outcome = await apply(db, copyRegistry(), backend.vector);
    if (outcome.status !== 'applied') {
      throw new Error(`the example registry did not apply: ${outcome.diagnostics.map((d) => d.message).join('; ')}`);
    }
  });

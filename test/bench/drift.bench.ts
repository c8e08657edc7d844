// npm run bench:drift — what finding drift costs next to a no-op plan of the same registry, with no
// drift and with 1% of the prompts edited behind Canon's back, and what --write costs. Prints a
// table; asserts nothing. BENCH_SIZES=1000,10000 and BENCH_BACKENDS=pglite,postgres narrow the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { applyRegistry } from '../../src/apply/apply.ts';
import { sql } from '../../src/db/sql.ts';
import { driftRegistry } from '../../src/drift/drift.ts';
import { writeDrift } from '../../src/drift/write.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { planRegistry } from '../../src/pipeline/plan.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { freshDatabase } from './fresh-database.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const wantedBackends = (process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const catalog = loadKindCatalog('schemas');

const fresh = (backend: string) => freshDatabase(backend, serverUrl, 'canon_bench_drift');

const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
};

const rows: string[][] = [];
const root = mkdtempSync(join(tmpdir(), 'canon-bench-drift-'));
try {
  for (const size of sizes) {
    const dir = join(root, `registry-${size}`);
    for (const backend of wantedBackends) {
      writeSyntheticRegistry(dir, size);
      let f: Awaited<ReturnType<typeof fresh>>;
      try {
        f = await fresh(backend);
      } catch (e) {
        console.log(`${backend} skipped: ${(e as Error).message}`);
        continue;
      }
      const options = {
        dir,
        catalog,
        schema: { embeddings: backend === 'pglite', dimensions: 1536 },
        deleteMode: 'soft' as const,
        statementTimeoutMs: 600_000,
        lockTimeoutMs: 30_000,
        allowDelete: false,
        allowDestructive: false,
      };
      try {
        await applyRegistry(f.db, options);
        const [, noopPlanMs] = await time(() => planRegistry(f.db, options));
        const [clean, cleanMs] = await time(() => driftRegistry(f.db, options));
        const edited = await f.db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
          WITH edited AS (
            UPDATE prompts SET content = content || 'Edited in the console.' || chr(10)
            WHERE id IN (SELECT id FROM prompts ORDER BY id LIMIT greatest(1, (SELECT count(*) FROM prompts) / 100))
            RETURNING 1)
          SELECT count(*)::int AS n FROM edited`);
        const [found, driftMs] = await time(() => driftRegistry(f.db, options));
        const [, planMs] = await time(() => planRegistry(f.db, options));
        if (!clean.ok || !found.ok) throw new Error('synthetic registry invalid');
        const [written, writeMs] = await time(() => writeDrift(found.entries, shapesOf(catalog), found.label));
        rows.push([
          String(size),
          backend,
          noopPlanMs.toFixed(0),
          `${cleanMs.toFixed(0)} (${clean.entries.length} drifted)`,
          `${driftMs.toFixed(0)} (${found.entries.length}/${edited} found)`,
          planMs.toFixed(0),
          `${writeMs.toFixed(0)} (${written.adopted.length} written, ${written.files.length} files)`,
        ]);
      } finally {
        await f.drop();
      }
    }
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}

const header = [
  'assets',
  'backend',
  'no-op plan ms',
  'drift ms, none',
  'drift ms, 1% prompts',
  'plan ms',
  '--write ms',
];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
console.log([line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));

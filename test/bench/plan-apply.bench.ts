// npm run bench — plan/apply figures at several registry sizes on both backends, with the COPY
// reference (the physical limit) and the naive one-upsert-per-row peer. Prints tables; asserts nothing.
// BENCH_SIZES=1000,10000 and BENCH_BACKENDS=pglite,postgres narrow the run.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { applyRegistry } from '../../src/apply/apply.ts';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { type PlanOptions, planRegistry } from '../../src/pipeline/plan.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { type FreshDatabase, freshDatabase } from './fresh-database.ts';
import { copyReferencePglite, copyReferenceServer, perRowReference, rowsOf } from './references.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const wantedBackends = (process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const perRowLimit = Number(process.env.BENCH_PER_ROW_LIMIT ?? 10_000);
const catalog = loadKindCatalog('schemas');
const shapes = shapesOf(catalog);

const fresh = (backend: string) => freshDatabase(backend, serverUrl, 'canon_bench');

/** Rows inserted, updated or deleted in Canon's tables so far, from pg_stat_user_tables. */
async function rowsWritten(db: Database): Promise<number> {
  if (db.backend === 'postgres') await new Promise((r) => setTimeout(r, 1200)); // other backends flush their counters about once a second
  return db.pool.connect(async (c) => {
    await c.query(sql.unsafe`SELECT pg_stat_clear_snapshot()`);
    if (db.backend === 'pglite') await c.query(sql.unsafe`SELECT pg_stat_force_next_flush()`);
    return c.oneFirst(
      sql.type(
        z.object({ n: z.number() }),
      )`SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::int AS n FROM pg_stat_user_tables`,
    );
  });
}

const time = async <T>(f: () => Promise<T> | T): Promise<[T, number]> => {
  const t = performance.now();
  const v = await f();
  return [v, performance.now() - t];
};

function editOnePercent(dir: string, assets: number): number {
  let budget = Math.max(1, Math.round(assets / 100));
  const wanted = budget;
  for (const f of readdirSync(dir)
    .filter((x) => x.endsWith('.yaml'))
    .sort()) {
    if (budget === 0) break;
    let text = readFileSync(join(dir, f), 'utf8');
    text = text.replace(/Line 1: follow the standard/g, (m) => {
      if (budget === 0) return m;
      budget--;
      return 'Line 1: FOLLOW the standard';
    });
    writeFileSync(join(dir, f), text);
  }
  return wanted - budget;
}

const results: string[][] = [];
const references: string[][] = [];
for (const size of sizes) {
  const dir = join(mkdtempSync(join(tmpdir(), 'canon-bench-')), 'registry');
  writeSyntheticRegistry(dir, size);
  const [, validateMs] = await time(() => checkRegistry(dir, catalog));
  for (const backend of wantedBackends) {
    const embeddings = backend === 'pglite';
    let f: FreshDatabase;
    try {
      f = await fresh(backend);
    } catch (e) {
      console.log(`${backend} skipped: ${(e as Error).message}`);
      continue;
    }
    const options: PlanOptions & { allowDelete: boolean; allowDestructive: boolean } = {
      dir,
      catalog,
      schema: { embeddings, dimensions: 1536 },
      deleteMode: 'soft',
      statementTimeoutMs: 600_000,
      lockTimeoutMs: 30_000,
      allowDelete: false,
      allowDestructive: false,
    };
    try {
      const [, planEmptyMs] = await time(() => planRegistry(f.db, options));
      // Fresh apply = the rows into empty tables; the schema is created first, as `canon migrate` would.
      await applyMigration(f.db, await planMigration(f.db, catalog, options.schema), { allowDestructive: false });
      const [applied, freshApplyMs] = await time(() => applyRegistry(f.db, options));
      const executeMs = applied.status === 'applied' ? applied.executeMs : NaN;
      const [noopPlan, noopPlanMs] = await time(() => planRegistry(f.db, options));
      const noopChanges = noopPlan.ok ? noopPlan.plan.changes.length : NaN;
      const before = await rowsWritten(f.db);
      const [, noopApplyMs] = await time(() => applyRegistry(f.db, options));
      const written = (await rowsWritten(f.db)) - before;
      const edited = editOnePercent(dir, size);
      const [editApply, editApplyMs] = await time(() => applyRegistry(f.db, options));
      const editChanges = editApply.status === 'applied' ? editApply.plan.summary.update : 0;
      results.push([
        String(size),
        backend,
        validateMs.toFixed(0),
        planEmptyMs.toFixed(0),
        `${freshApplyMs.toFixed(0)} (${executeMs.toFixed(0)} writing)`,
        `${noopPlanMs.toFixed(0)} (${noopChanges} changes)`,
        `${noopApplyMs.toFixed(0)} (${written} rows written)`,
        `${editApplyMs.toFixed(0)} (${editChanges}/${edited} edited)`,
      ]);
      // References, into a fresh schema holding nothing.
      const g = await fresh(backend);
      try {
        await applyMigration(g.db, await planMigration(g.db, catalog, options.schema), { allowDestructive: false });
        const outcome = await planRegistry(g.db, options);
        if (!outcome.ok) throw new Error('synthetic registry invalid');
        const rows = rowsOf(outcome.plan, shapes);
        const rowCount = [...rows.values()].reduce((n, t) => n + t.rows.length, 0);
        const [, copyMs] = await time(() =>
          g.db.pglite ? copyReferencePglite(g.db.pglite, rows) : copyReferenceServer(g.url!, rows),
        );
        let perRow = 'skipped';
        if (size <= perRowLimit) {
          const h = await fresh(backend);
          try {
            await applyMigration(h.db, await planMigration(h.db, catalog, options.schema), { allowDestructive: false });
            const [, perRowMs] = await time(() => perRowReference(h.db, rows));
            perRow = perRowMs.toFixed(0);
          } finally {
            await h.drop();
          }
        }
        references.push([
          String(size),
          backend,
          String(rowCount),
          executeMs.toFixed(0),
          copyMs.toFixed(0),
          (executeMs / copyMs).toFixed(2),
          perRow,
        ]);
      } finally {
        await g.drop();
      }
    } finally {
      await f.drop();
    }
  }
}

console.log(
  '\n| assets | backend | validate ms | plan vs empty ms | fresh apply ms | no-op plan ms | no-op apply ms | 1 % edit apply ms |',
);
console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) console.log(`| ${r.join(' | ')} |`);
console.log('\n| assets | backend | rows | apply writing ms | COPY ms | apply / COPY | one upsert per row ms |');
console.log('|---:|---|---:|---:|---:|---:|---:|');
for (const r of references) console.log(`| ${r.join(' | ')} |`);

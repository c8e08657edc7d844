// npm run bench:db — figures for the database layer: PGlite cold start, full schema creation and a
// no-op migrate on each backend, in-process and through the CLI. Prints a table; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DatabaseSpec, openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';
import { cliPath } from '../support/built-cli.ts';

const catalog = loadKindCatalog('schemas');
const rows: string[][] = [];
const ms = (t: number) => `${Math.round(performance.now() - t)}`;

async function measure(label: string, spec: DatabaseSpec, embeddings: boolean, reset?: () => Promise<void>) {
  await reset?.();
  let t = performance.now();
  const db = await openDatabase(spec);
  const open = ms(t);
  t = performance.now();
  const plan = await planMigration(db, catalog, { embeddings, dimensions: 1536 });
  await applyMigration(db, plan, { allowDestructive: false });
  const create = ms(t);
  const noop: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    const again = await planMigration(db, catalog, { embeddings, dimensions: 1536 });
    if (again.changes.length > 0) throw new Error(`no-op migrate planned ${again.changes.length} changes`);
    noop.push(performance.now() - t);
  }
  await db.close();
  rows.push([
    label,
    open,
    `${create} (${plan.changes.length} changes, ${plan.statements.length} statements)`,
    `${Math.round(Math.min(...noop))}`,
  ]);
}

await measure('PGlite, in memory', { backend: 'pglite', dataDir: null }, true);
await measure(
  'PGlite, data folder',
  { backend: 'pglite', dataDir: join(mkdtempSync(join(tmpdir(), 'canon-bench-')), 'db') },
  true,
);
const server = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
try {
  const spec = parseDatabaseSpec(server);
  await measure('PostgreSQL server (no pgvector)', spec, false, async () => {
    const db = await openDatabase(spec);
    await db.pool.query(sql.unsafe`DROP SCHEMA IF EXISTS public CASCADE`);
    await db.pool.query(sql.unsafe`CREATE SCHEMA public`);
    await db.close();
  });
} catch (e) {
  console.log(`server skipped: ${(e as Error).message}`);
}

console.log('| backend | open ms | create full schema ms | no-op migrate (plan) ms |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

const dir = join(mkdtempSync(join(tmpdir(), 'canon-bench-')), 'db');
const cli = (args: string[]) => {
  const t = performance.now();
  const env = { ...process.env, DATABASE_URL: '' };
  const result = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8', env });
  if (result.status !== 0) throw new Error(result.stderr);
  return ms(t);
};
console.log('\n| CLI (whole process) | wall ms |');
console.log('|---|---:|');
console.log(
  `| canon migrate, new data folder (PGlite cold start + schema) | ${cli(['migrate', '--database', `pglite:${dir}`])} |`,
);
console.log(
  `| canon migrate, up to date (PGlite reopen + no-op) | ${cli(['migrate', '--database', `pglite:${dir}`])} |`,
);
console.log(
  `| canon migrate --database memory: --dry-run | ${cli(['migrate', '--database', 'memory:', '--dry-run'])} |`,
);
console.log(`| canon validate (example registry) | ${cli(['validate'])} |`);

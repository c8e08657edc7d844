// npm run bench:replan — what `canon dev` pays per save: a synthetic registry (BENCH_SIZE, default
// 10,000 assets) applied to a fresh database (the server at TEST_DATABASE_URL when set, else
// PGlite; BENCH_BACKEND=pglite|postgres forces one), then BENCH_EDITS (default 50) one-file edits
// planned through a plan session. Prints the distribution; asserts nothing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRegistry } from '../../src/apply/apply.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { readLiveRegistry } from '../../src/introspect/rows.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { gitCommitOf } from '../../src/pipeline/plan.ts';
import { createPlanSession } from '../../src/pipeline/session.ts';
import { computePlan } from '../../src/plan/plan.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { compileValidators } from '../../src/validate/ajv.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

const size = Number(process.env.BENCH_SIZE ?? 10_000);
const edits = Number(process.env.BENCH_EDITS ?? 50);
const serverUrl = process.env.TEST_DATABASE_URL;
const backend = process.env.BENCH_BACKEND ?? (serverUrl ? 'postgres' : 'pglite');
const catalog = loadKindCatalog('schemas');
const validators = compileValidators(catalog);
const schema = { embeddings: backend === 'pglite', dimensions: 1536 };

async function freshDatabase(): Promise<{ db: Database; drop(): Promise<void> }> {
  if (backend === 'pglite') {
    const db = await openDatabase({ backend: 'pglite', dataDir: null }, { statementTimeoutMs: 600_000 });
    return { db, drop: () => db.close() };
  }
  const url = serverUrl ?? 'postgres://postgres@127.0.0.1:5432/test';
  const admin = await openDatabase({ backend: 'postgres', url });
  const name = `canon_bench_replan_${Date.now()}`;
  await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  const at = new URL(url);
  at.pathname = `/${name}`;
  const db = await openDatabase({ backend: 'postgres', url: at.toString() }, { statementTimeoutMs: 600_000 });
  return {
    db,
    async drop() {
      await db.close();
      await admin.pool.query(sql.unsafe`DROP DATABASE ${sql.identifier([name])} WITH (FORCE)`);
      await admin.close();
    },
  };
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
};
const row = (label: string, values: number[], unit = 'ms') => {
  const figures = [quantile(values, 0.5), quantile(values, 0.9), Math.max(...values)].map((v) => v.toFixed(1));
  return `| ${label} | ${values.length} | ${figures.join(' | ')} | ${unit} |`;
};

const work = mkdtempSync(join(tmpdir(), 'canon-bench-replan-'));
const dir = join(work, 'registry');
const written = writeSyntheticRegistry(dir, size);
// A git checkout, as a real registry is: the plan records the commit, and asking git is part of each re-plan.
try {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'registry');
} catch {
  console.log('(git unavailable: plans record no commit)');
}
const { db, drop } = await freshDatabase();
try {
  await applyMigration(db, await planMigration(db, catalog, schema), { allowDestructive: false });
  let t = performance.now();
  const applied = await applyRegistry(db, {
    dir,
    catalog,
    schema,
    deleteMode: 'soft',
    statementTimeoutMs: 600_000,
    lockTimeoutMs: 30_000,
    allowDelete: false,
    allowDestructive: false,
  });
  const applyMs = performance.now() - t;
  if (applied.status !== 'applied') throw new Error(`apply: ${applied.status}`);

  const session = createPlanSession({ dir, catalog, validators, schema, deleteMode: 'soft' });
  t = performance.now();
  await session.refreshLive(db);
  const refreshMs = performance.now() - t;
  t = performance.now();
  const first = session.update();
  const firstMs = performance.now() - t;
  if (first.plan?.summary.unchanged !== first.graph.assets.length) throw new Error('the applied registry has changes');

  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort();
  const totals: number[] = [];
  // CPU time next to wall time: on a machine shared with other work, the gap is time spent waiting for a core.
  const cpuTimes: number[] = [];
  const stages: Record<keyof typeof first.timings, number[]> = { readMs: [], resolveMs: [], planMs: [] };
  const resolvedAssets: number[] = [];
  let updates = 0;
  for (let k = 0; k < edits; k++) {
    // One saved file: the name of its first asset changes. Every asset that refers to one of the
    // file's assets is resolved again too, so the edits spread over all kinds cost what a real save does.
    const file = join(dir, files[(k * 37) % files.length]!);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: (.*)$/m, `name: $1 e${k}`));
    t = performance.now();
    const cpu = process.cpuUsage();
    const result = session.update([file]);
    totals.push(performance.now() - t);
    const used = process.cpuUsage(cpu);
    cpuTimes.push((used.user + used.system) / 1000);
    for (const key of Object.keys(stages) as (keyof typeof stages)[]) stages[key].push(result.timings[key]);
    resolvedAssets.push(result.resolvedAssets);
    if (!result.plan) throw new Error(`edit ${k} made the registry invalid: ${result.diagnostics[0]?.message}`);
    updates = result.plan.summary.update;
  }

  // The same re-plan without a session, everything that can be cached in-process cached: what
  // an editor integration paid before (parse cache warm, validators compiled, live rows read once).
  const cacheDir = join(work, 'cache');
  const shapes = shapesOf(catalog);
  const migration = await planMigration(db, catalog, schema);
  checkRegistry(dir, catalog, { validators, cacheDir });
  const warmCheck = checkRegistry(dir, catalog, { validators, cacheDir });
  const wanted = warmCheck.graph.assets.map((a) => ({ table: shapes.get(a.kind)!.table, uuid: a.uuid, id: a.id }));
  const live = await readLiveRegistry(db.pool, shapes.values(), migration.live, wanted);
  const full: number[] = [];
  for (let k = 0; k < 5; k++) {
    const file = join(dir, files[(k * 53) % files.length]!);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^name: (.*)$/m, `name: $1 f${k}`));
    t = performance.now();
    const checked = checkRegistry(dir, catalog, { validators, cacheDir });
    const plan = computePlan({
      shapes,
      graph: checked.graph,
      live,
      schema: migration.changes,
      database: db.label,
      deleteMode: 'soft',
      gitCommit: gitCommitOf(dir),
    });
    void plan.planHash;
    full.push(performance.now() - t);
  }

  const load = loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');
  const size = `${first.graph.assets.length} assets in ${written.files} files`;
  console.log(`\nre-plan after one saved file: ${size}, ${backend} (${db.label})`);
  console.log(
    `apply ${applyMs.toFixed(0)} ms; session.refreshLive ${refreshMs.toFixed(0)} ms;` +
      ` first session.update (reads and plans everything) ${firstMs.toFixed(0)} ms`,
  );
  console.log(`after ${edits} edits the plan has ${updates} updates; load average ${load}\n`);
  console.log('| measure | n | median | p90 | max | unit |');
  console.log('|---|---:|---:|---:|---:|---|');
  console.log(row('session.update, one file edited', totals));
  console.log(row('… CPU time of it (all threads)', cpuTimes));
  console.log(row('… of which read + parse + validate', stages.readMs));
  console.log(row('… of which resolve + diagnostics', stages.resolveMs));
  console.log(row('… of which plan', stages.planMs));
  console.log(row('assets resolved again per edit', resolvedAssets, 'assets'));
  console.log(row('full re-plan without a session (check + computePlan)', full));
} finally {
  await drop();
  rmSync(work, { recursive: true, force: true });
}

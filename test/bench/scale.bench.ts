// npm run bench — issue 10's figures in one run: whole-CLI medians per registry size on the server
// and on PGlite, the in-process incremental re-plan, COPY and the bare-parse floor as references,
// peak RSS, and the exponent of each figure from one size to the next (10k → 100k is the one the
// issue bounds by 1.05). Asserts nothing. The machine is shared: every figure is printed with the load
// average when it was taken, and CPU time beside wall time (the gap is time spent waiting for a core).
//   BENCH_SIZES=1000,10000,100000   sizes (synthetic registries, test/bench/synthetic.ts)
//   BENCH_BACKENDS=postgres,pglite  backends; the server is TEST_DATABASE_URL (default the local one)
//   BENCH_PGLITE_MAX=10000          largest size run on PGlite
//   BENCH_RUNS=3, BENCH_RUNS_LARGE=1  runs per CLI case (the median is shown); LARGE from 50,000 assets
//   BENCH_BIN=path/to/bin.js        another build's CLI (e.g. main's dist, for before/after figures)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRegistry } from '../../src/apply/apply.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';
import { createPlanSession } from '../../src/pipeline/session.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { compileValidators } from '../../src/validate/ajv.ts';
import { freshDatabase } from './fresh-database.ts';
import { bookkeepingRowsOf, copyReferencePglite, copyReferenceServer, rowsOf, type TableRows } from './references.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

const repo = join(import.meta.dirname, '..', '..');
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').filter(Boolean);
const sizes = list('BENCH_SIZES', '1000,10000,100000').map(Number);
const backends = list('BENCH_BACKENDS', 'postgres,pglite');
const pgliteMax = Number(process.env.BENCH_PGLITE_MAX ?? 10_000);
const runsFor = (size: number) =>
  Number(size >= 50_000 ? (process.env.BENCH_RUNS_LARGE ?? 1) : (process.env.BENCH_RUNS ?? 3));
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const bin = process.env.BENCH_BIN ?? join(repo, 'dist', 'cli', 'bin.js');
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const catalog = loadKindCatalog(join(repo, 'schemas'));
const shapes = shapesOf(catalog);
const validators = compileValidators(catalog);

const work = mkdtempSync(join(tmpdir(), 'canon-bench-scale-'));
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: join(work, 'cache') };
delete env.DATABASE_URL;
const load = () => loadavg()[0]!.toFixed(1);

interface Run {
  wallMs: number;
  cpuMs: number;
  rssMb: number;
  load: string;
}

/** One process, timed whole; with GNU time also its CPU time and peak RSS. */
function run(args: string[], expectStatus = 0): Run {
  const report = join(work, 'time.txt');
  const started = performance.now();
  const before = load();
  // A plan of 100k creates is some 70 MB of text: read it all, as a terminal or a CI log would.
  const options = { env, encoding: 'utf8', maxBuffer: 1 << 30 } as const;
  const result = gnuTime
    ? spawnSync(gnuTime, ['-f', '%U %S %M', '-o', report, process.execPath, ...args], options)
    : spawnSync(process.execPath, args, options);
  const wallMs = performance.now() - started;
  if (result.status !== expectStatus) {
    const how = result.error?.message ?? `exited ${result.status ?? result.signal}`;
    throw new Error(`${args.slice(1, 3).join(' ')} ${how}: ${result.stderr.slice(-2000)}`);
  }
  if (!gnuTime) return { wallMs, cpuMs: Number.NaN, rssMb: Number.NaN, load: before };
  const [user, system, rssKb] = readFileSync(report, 'utf8').trim().split('\n').at(-1)!.split(' ').map(Number);
  return { wallMs, cpuMs: (user! + system!) * 1000, rssMb: rssKb! / 1024, load: before };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The median run of several (by wall time), with the largest peak RSS of them. */
function medianRun(runs: Run[]): Run {
  const byWall = [...runs].sort((a, b) => a.wallMs - b.wallMs);
  const mid = byWall[(byWall.length - 1) >> 1]!;
  return { ...mid, wallMs: median(runs.map((r) => r.wallMs)), rssMb: Math.max(...runs.map((r) => r.rssMb)) };
}

const repeat = (times: number, once: (i: number) => Run) => medianRun(Array.from({ length: times }, (_, i) => once(i)));

/** Figures of one (size, backend): CLI cases as runs, in-process measures as milliseconds. */
interface Figures {
  size: number;
  backend: string;
  cli: Map<string, Run>;
  ms: Map<string, number>;
  loads: string[];
}

const cliCases = [
  'validate cold',
  'validate warm',
  'plan vs empty',
  'fresh apply',
  'no-op plan',
  'no-op apply',
  '1-asset edit apply',
] as const;
const referenceCases = [
  'bare parse floor',
  'apply writing (in-process)',
  'COPY',
  'COPY with bookkeeping',
  're-plan, one file (in-process)',
];

/** One asset's text edited in place (toggled, so every run changes it): the 1-asset edit. */
function editOneAsset(dir: string, k: number) {
  const file = join(
    dir,
    readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort()[0]!,
  );
  const text = readFileSync(file, 'utf8');
  const [from, to] = k % 2 ? ['Line 1: EDITED', 'Line 1: follow'] : ['Line 1: follow', 'Line 1: EDITED'];
  writeFileSync(file, text.replace(from, to));
}

function asGitCheckout(dir: string) {
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@example.com', ...args], { cwd: dir });
  try {
    git('init', '-q');
    git('add', '.');
    git('commit', '-qm', 'registry');
  } catch {
    console.log('(git unavailable: plans record no commit)');
  }
}

async function measure(size: number, backend: string, dir: string, shared: Map<string, Run>): Promise<Figures> {
  const figures: Figures = { size, backend, cli: new Map(shared), ms: new Map(), loads: [] };
  const runs = runsFor(size);
  const schema = { embeddings: backend === 'pglite', dimensions: 1536 };
  const flags = ['--dir', dir, ...(schema.embeddings ? [] : ['--no-embeddings'])];
  const canon = (database: string, ...args: string[]) => run([bin, ...args, ...flags, '--database', database]);
  const apply = (database: string) => canon(database, 'apply', '--auto-approve');
  let folders = 0;
  // A database for each fresh apply: a server database (dropped at the end), or a new PGlite folder.
  const made: { drop(): Promise<void> }[] = [];
  const empty = async (migrated: boolean) => {
    if (backend === 'pglite') {
      const folder = join(work, `pglite-${size}-${folders++}`);
      return { spec: `pglite:${folder}`, db: undefined, drop: async () => rmSync(folder, { recursive: true }) };
    }
    const fresh = await freshDatabase('postgres', serverUrl, 'canon_bench_scale');
    made.push(fresh);
    if (migrated)
      await applyMigration(fresh.db, await planMigration(fresh.db, catalog, schema), { allowDestructive: false });
    return { spec: fresh.url!, db: fresh.db, drop: fresh.drop };
  };
  try {
    const blank = await empty(false);
    figures.cli.set(
      'plan vs empty',
      repeat(runs, () => canon(blank.spec, 'plan')),
    );
    const targets: string[] = [];
    for (let i = 0; i < runs; i++) targets.push((await empty(false)).spec);
    figures.cli.set('fresh apply', medianRun(targets.map((spec) => apply(spec))));
    const target = targets.at(-1)!;
    figures.cli.set(
      'no-op plan',
      repeat(runs, () => canon(target, 'plan')),
    );
    figures.cli.set(
      'no-op apply',
      repeat(runs, () => apply(target)),
    );
    figures.cli.set(
      '1-asset edit apply',
      repeat(runs, (k) => {
        editOneAsset(dir, k);
        return apply(target);
      }),
    );
    if (runs % 2) editOneAsset(dir, 1); // back as generated
    figures.loads.push(load());
    await inProcess(figures, backend, dir, schema);
    figures.loads.push(load());
  } finally {
    for (const m of made) await m.drop();
  }
  return figures;
}

/** In-process: apply's writing time beside COPY of the same rows, and a plan session's re-plan after one file. */
async function inProcess(
  figures: Figures,
  backend: string,
  dir: string,
  schema: { embeddings: boolean; dimensions: number },
) {
  const options = {
    dir,
    catalog,
    validators,
    schema,
    deleteMode: 'soft' as const,
    statementTimeoutMs: 600_000,
    lockTimeoutMs: 30_000,
    allowDelete: false,
    allowDestructive: false,
  };
  const target = await freshDatabase(backend, serverUrl, 'canon_bench_scale');
  try {
    await applyMigration(target.db, await planMigration(target.db, catalog, schema), { allowDestructive: false });
    const applied = await applyRegistry(target.db, options);
    if (applied.status !== 'applied') throw new Error(`in-process apply: ${applied.status}`);
    figures.ms.set('apply writing (in-process)', applied.executeMs);
    // COPY of the same rows into a new database: the core and relation rows, then with the version
    // and managed-row records apply writes in its transaction too.
    const timeCopy = async (rows: Map<string, TableRows>) => {
      const reference = await freshDatabase(backend, serverUrl, 'canon_bench_scale');
      try {
        await applyMigration(reference.db, await planMigration(reference.db, catalog, schema), {
          allowDestructive: false,
        });
        const t = performance.now();
        if (reference.db.pglite) await copyReferencePglite(reference.db.pglite, rows);
        else await copyReferenceServer(reference.url!, rows);
        return performance.now() - t;
      } finally {
        await reference.drop();
      }
    };
    const rows = rowsOf(applied.plan, shapes);
    figures.ms.set('COPY', await timeCopy(rows));
    figures.ms.set('COPY with bookkeeping', await timeCopy(new Map([...rows, ...bookkeepingRowsOf(applied.plan)])));
    const session = createPlanSession({ dir, catalog, validators, schema, deleteMode: 'soft' });
    await session.refreshLive(target.db);
    session.update();
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();
    const times: number[] = [];
    for (let k = 0; k < 5; k++) {
      const file = join(dir, files[(k * 37) % files.length]!);
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.replace(/^name: (.*)$/m, `name: $1 e${k}`));
      const t = performance.now();
      session.update([file]);
      times.push(performance.now() - t);
      writeFileSync(file, text);
      session.update([file]);
    }
    figures.ms.set('re-plan, one file (in-process)', median(times));
  } finally {
    await target.drop();
  }
}

const all: Figures[] = [];
try {
  const help = repeat(5, () => run([bin, '--help']));
  const bare = repeat(5, () => run(['-e', '0']));
  console.log(`node -e 0 ${bare.wallMs.toFixed(0)} ms; canon --help ${help.wallMs.toFixed(0)} ms (load ${load()})`);
  for (const size of sizes) {
    const dir = join(work, `registry-${size}`);
    const { assets, files } = writeSyntheticRegistry(dir, size);
    asGitCheckout(dir);
    const runs = runsFor(size);
    const parseCache = join(work, 'cache', 'canon', 'parse');
    const shared = new Map<string, Run>([['--help', help]]);
    shared.set(
      'validate cold',
      repeat(runs, () => {
        rmSync(parseCache, { recursive: true, force: true });
        return run([bin, 'validate', '--dir', dir]);
      }),
    );
    shared.set(
      'validate warm',
      repeat(runs, () => run([bin, 'validate', '--dir', dir])),
    );
    shared.set(
      'bare parse floor',
      repeat(runs, () => run([join(repo, 'test/bench/bare-validate.mjs'), dir, 'schemas'])),
    );
    console.log(`${assets} assets in ${files} files: validated (load ${load()})`);
    for (const backend of backends) {
      if (backend === 'pglite' && size > pgliteMax) continue;
      all.push(await measure(size, backend, dir, shared));
      console.log(`${size} ${backend}: measured (load ${load()})`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

const value = (f: Figures, name: string) => f.cli.get(name)?.wallMs ?? f.ms.get(name);
const fmt = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '' : v.toFixed(0));
const columns = [...cliCases, ...referenceCases];
console.log(`\nwall ms, medians (CLI cases: caches warm unless cold; ${bin.slice(repo.length + 1) || bin})`);
console.log(`| assets | backend | ${columns.join(' | ')} | peak RSS MB | load |`);
console.log(`|---:|---|${columns.map(() => '---:').join('|')}|---:|---|`);
for (const f of all) {
  const peak = Math.max(...[...f.cli.values()].map((r) => r.rssMb));
  const loads = [...[...f.cli.values()].map((r) => r.load), ...f.loads].map(Number);
  const cells = columns.map((c) => fmt(value(f, c)));
  console.log(
    `| ${f.size} | ${f.backend} | ${cells.join(' | ')} | ${fmt(peak)} | ${Math.min(...loads)}–${Math.max(...loads)} |`,
  );
}
console.log('\nCPU ms (user + system, all threads) and peak RSS MB per CLI case');
console.log(`| assets | backend | ${cliCases.map((c) => `${c} CPU | RSS`).join(' | ')} |`);
console.log(`|---:|---|${cliCases.map(() => '---:|---:').join('|')}|`);
for (const f of all) {
  const cells = cliCases.map((c) => `${fmt(f.cli.get(c)?.cpuMs)} | ${fmt(f.cli.get(c)?.rssMb)}`);
  console.log(`| ${f.size} | ${f.backend} | ${cells.join(' | ')} |`);
}
// Exponent k of time ∝ size^k between consecutive sizes of a backend: 1 is linear.
console.log('\nexponents between sizes (wall; CPU in brackets for CLI cases); 1.00 is linear');
console.log(`| backend | sizes | ${columns.join(' | ')} | peak RSS |`);
console.log(`|---|---|${columns.map(() => '---:').join('|')}|---:|`);
for (const backend of backends) {
  const rows = all.filter((f) => f.backend === backend).sort((a, b) => a.size - b.size);
  for (let i = 1; i < rows.length; i++) {
    const [a, b] = [rows[i - 1]!, rows[i]!];
    const k = (x: number | undefined, y: number | undefined) =>
      x === undefined || y === undefined ? '' : (Math.log(y / x) / Math.log(b.size / a.size)).toFixed(2);
    const cells = columns.map((c) => {
      const wall = k(value(a, c), value(b, c));
      const cpu = a.cli.has(c) ? k(a.cli.get(c)?.cpuMs, b.cli.get(c)?.cpuMs) : '';
      return cpu ? `${wall} (${cpu})` : wall;
    });
    const peak = (f: Figures) => Math.max(...[...f.cli.values()].map((r) => r.rssMb));
    console.log(`| ${backend} | ${a.size}→${b.size} | ${cells.join(' | ')} | ${k(peak(a), peak(b))} |`);
  }
}

// npm run bench:import — `canon import --legacy seed` on a synthetic legacy database (the fixture's
// tables, filled with generated rows: personas, agents, tasks with dependencies), against the time of a
// no-op plan of the registry it writes (the issue's goal: import ≤ that). Prints a table; asserts nothing.
// BENCH_SIZES=10000,100000 (legacy rows) and BENCH_BACKENDS=pglite,postgres narrow the run; the server
// is TEST_DATABASE_URL (else the local one).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { applyRegistry } from '../../src/apply/apply.ts';
import { openDatabase } from '../../src/db/open.ts';
import { importLegacy } from '../../src/import/legacy/legacy.ts';
import { loadMapping, resolveMappingFile } from '../../src/import/legacy/mapping.ts';
import { writeLegacyImport } from '../../src/import/legacy/write.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { type PlanOptions, planRegistry } from '../../src/pipeline/plan.ts';
import { freshDatabase } from './fresh-database.ts';

const sizes = (process.env.BENCH_SIZES ?? '10000').split(',').map(Number);
const wantedBackends = (process.env.BENCH_BACKENDS ?? 'pglite,postgres').split(',');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const catalog = loadKindCatalog('schemas');
const mapping = loadMapping(resolveMappingFile('seed')!).mapping!;
const fixture = readFileSync('test/fixtures/legacy/source.sql', 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'canon-bench-import-'));
process.once('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** n legacy rows: 40% dh_personas, 30% dh_agent, 30% dh_task (each task depending on the one before). */
function syntheticSql(n: number): string {
  const personas = Math.round(n * 0.4);
  const agents = Math.round(n * 0.3);
  const tasks = n - personas - agents;
  return `
INSERT INTO dh_personas (id, unique_id, persona_name, description, industry_id, pharma_id, seniority_level,
  decision_authority, experience_years, education_level, responsibilities, created_at)
SELECT 1000 + g, CASE WHEN g % 3 = 0 THEN 'P_' || g END, 'Persona ' || g, 'Synthetic persona ' || g,
  '10000000-0000-4000-8000-000000000001', 'PH-' || g, (ARRAY['Mid', 'senior', 'EXECUTIVE', 'junior'])[1 + g % 4],
  (ARRAY['FINAL', 'advisory', 'Informational'])[1 + g % 3], g % 30, 'PhD',
  CASE WHEN g % 5 = 0 THEN jsonb_build_object('title', 'R' || g)
       ELSE jsonb_build_array(jsonb_build_object('title', 'R' || g)) END,
  now()
FROM generate_series(1, ${personas}) g;
INSERT INTO dh_agent (id, name, category, description, system_prompt, model_config, complexity_level, created_at)
SELECT 1000 + g, 'Agent ' || g, CASE WHEN g % 2 = 0 THEN 'medical_affairs' ELSE 'clinical_ops' END, 'Synthetic agent',
  'You are agent ' || g || '.', jsonb_build_object('model', 'gpt-4o', 'temperature', 0.2),
  (ARRAY['low', 'Medium', 'HIGH'])[1 + g % 3], now()
FROM generate_series(1, ${agents}) g;
INSERT INTO dh_task (id, code, title, workflow_id, phase_name, position, task_type, complexity_level)
SELECT 1000 + g, 'T' || (100000 + g), 'Task ' || g, 1, 'Research', g, 'Analysis', 'medium'
FROM generate_series(1, ${tasks}) g;
INSERT INTO dh_task_dependency (task_id, depends_on_task_id, dependency_type)
SELECT 1000 + g, 999 + g, 'Blocking' FROM generate_series(2, ${tasks}) g;`;
}

interface Source {
  spec: string;
  drop(): Promise<void>;
}

async function legacySource(backend: string, n: number): Promise<Source> {
  const text = `${fixture}\n${syntheticSql(n)}`;
  if (backend === 'pglite') {
    const dir = join(scratch, `source-${n}`);
    const pglite = await PGlite.create(dir);
    await pglite.exec(text);
    await pglite.close();
    return { spec: dir, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  // A server source: a fresh database, loaded by running the fixture file as it is (many statements).
  const source = await freshDatabase(backend, serverUrl, 'canon_bench_legacy');
  const client = new pg.Client({ connectionString: source.url });
  await client.connect();
  await client.query(text);
  await client.end();
  return { spec: source.url!, drop: () => source.drop() };
}

const target = (backend: string) => freshDatabase(backend, serverUrl, 'canon_bench_target');

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const rows: string[][] = [];
for (const backend of wantedBackends) {
  for (const n of sizes) {
    const source = await legacySource(backend, n);
    const out = join(scratch, `out-${backend}-${n}`);
    try {
      let t = performance.now();
      const db = await openDatabase(
        backend === 'pglite' ? { backend: 'pglite', dataDir: source.spec } : { backend: 'postgres', url: source.spec },
      );
      const openMs = performance.now() - t;
      t = performance.now();
      const result = await importLegacy(db, catalog, mapping, 'public');
      const mapMs = performance.now() - t;
      await db.close();
      t = performance.now();
      writeLegacyImport(out, result.documents);
      const writeMs = performance.now() - t;
      const importMs = openMs + mapMs + writeMs;
      if (!result.complete) throw new Error('rows unaccounted for');
      const into = await target(backend);
      try {
        const options: PlanOptions = {
          dir: out,
          catalog,
          schema: { embeddings: backend === 'pglite', dimensions: 8 },
          deleteMode: 'soft',
          statementTimeoutMs: 600_000,
          lockTimeoutMs: 30_000,
        };
        t = performance.now();
        const applied = await applyRegistry(into.db, { ...options, allowDelete: false, allowDestructive: false });
        const applyMs = performance.now() - t;
        if (applied.status !== 'applied')
          throw new Error(
            `apply: ${applied.status}: ${applied.diagnostics
              .slice(0, 3)
              .map((d) => `${d.file}:${d.line} ${d.message}`)
              .join('; ')}`,
          );
        t = performance.now();
        const noop = await planRegistry(into.db, options);
        const planMs = performance.now() - t;
        if (!noop.ok || noop.plan.summary.create + noop.plan.summary.update + noop.plan.summary.delete > 0)
          throw new Error('the no-op plan is not empty');
        const coerced = result.reconciliation.coercions.length;
        rows.push([
          backend,
          String(n + 55),
          String(result.documents.length),
          String(coerced),
          `${seconds(importMs)} (open ${seconds(openMs)}, read+map ${seconds(mapMs)}, write ${seconds(writeMs)})`,
          seconds(applyMs),
          seconds(planMs),
          (importMs / planMs).toFixed(2),
        ]);
      } finally {
        await into.drop();
      }
    } finally {
      await source.drop();
    }
    console.error(`done: ${backend} ${n}`);
  }
}
const head = ['backend', 'legacy rows', 'assets', 'coercions', 'import s', 'apply s', 'no-op plan s', 'import/plan'];
console.log(head.join(' | '));
for (const r of rows) console.log(r.join(' | '));

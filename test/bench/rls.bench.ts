// npm run bench:rls — what row-level security costs: a 10k-row SELECT and 1,000 single-row lookups,
// as the application role with a tenant set (RLS on) against the same queries run by a role that
// bypasses RLS, with and without the equivalent hand-written tenant filter. Prints a table.
import pg from 'pg';
import { z } from 'zod';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { applyMigration, planMigration } from '../../src/migrate/migrate.ts';

const catalog = loadKindCatalog('schemas');
const serverUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const runs = Number(process.env.BENCH_RUNS ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function seed(db: Database) {
  await applyMigration(db, await planMigration(db, catalog, { embeddings: false, dimensions: 3 }), {
    allowDestructive: false,
  });
  await db.pool.query(
    sql.unsafe`INSERT INTO tenants (id, unique_id, name) VALUES (gen_random_uuid(), 'a', 'A'), (gen_random_uuid(), 'b', 'B')`,
  );
  await db.pool.query(
    sql.unsafe`INSERT INTO tenants (id, unique_id, name, parent_tenant_id) SELECT gen_random_uuid(), 'c', 'C', id FROM tenants WHERE unique_id = 'a'`,
  );
  // 10,000 prompts: a quarter each for the platform and tenants a, b and c (a's child); 1 in 10 of b's shared with a.
  await db.pool.query(sql.unsafe`
    INSERT INTO prompts (unique_id, name, content, tenant_id, is_public)
    SELECT 'prompt-' || i, 'Prompt ' || i, repeat('Summarise the evidence. ', 10),
      CASE i % 4 WHEN 0 THEN NULL ELSE (SELECT id FROM tenants WHERE unique_id = (ARRAY['a', 'b', 'c'])[i % 4]) END, i % 50 = 0
    FROM generate_series(1, 10000) i`);
  await db.pool.query(sql.unsafe`
    INSERT INTO asset_sharing (asset_id, shared_with_tenant_id)
    SELECT p.id, (SELECT id FROM tenants WHERE unique_id = 'a') FROM prompts p JOIN tenants t ON t.id = p.tenant_id WHERE t.unique_id = 'b' AND random() < 0.1`);
  await db.pool.query(sql.unsafe`ANALYZE`);
}

async function timed(
  db: Database,
  asApp: boolean,
  tenant: string,
  query: (tx: any) => Promise<unknown>,
): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    samples.push(
      await db.pool.transaction(async (tx) => {
        if (asApp) {
          await tx.query(sql.unsafe`SELECT set_config('role', 'canon_app', true)`);
          await tx.query(sql.unsafe`SELECT set_config('app.current_tenant_id', ${tenant}, true)`);
        }
        const t = performance.now();
        await query(tx);
        return performance.now() - t;
      }),
    );
  }
  return median(samples);
}

const rows: string[][] = [];
for (const backend of ['pglite', 'postgres'] as const) {
  let db: Database;
  let drop = async () => {};
  if (backend === 'pglite') db = await openDatabase({ backend: 'pglite', dataDir: null });
  else {
    const admin = await openDatabase({ backend: 'postgres', url: serverUrl }).catch(() => null);
    if (!admin) {
      console.log('server skipped');
      continue;
    }
    const name = `canon_rls_bench_${Date.now()}`;
    await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    db = await openDatabase({ backend: 'postgres', url: url.toString() });
    drop = async () => {
      await admin.pool.query(sql.unsafe`DROP DATABASE ${sql.identifier([name])} WITH (FORCE)`);
      await admin.close();
    };
  }
  try {
    await seed(db);
    const a = await db.pool.oneFirst(
      sql.type(z.object({ id: z.string() }))`SELECT id FROM tenants WHERE unique_id = 'a'`,
    );
    const all = sql.unsafe`SELECT id, name FROM prompts`;
    const filtered = sql.unsafe`SELECT p.id, p.name FROM prompts p WHERE p.tenant_id IS NULL OR p.is_public OR p.tenant_id = ${a}
      OR EXISTS (SELECT 1 FROM asset_sharing s WHERE s.asset_id = p.id AND s.shared_with_tenant_id = ${a} AND s.can_view)`;
    const count = async (q: typeof all, app: boolean) =>
      db.pool.transaction(async (tx) => {
        if (app) {
          await tx.query(sql.unsafe`SELECT set_config('role', 'canon_app', true)`);
          await tx.query(sql.unsafe`SELECT set_config('app.current_tenant_id', ${a}, true)`);
        }
        return (await tx.any(q)).length;
      });
    const scanAll = await timed(db, false, a, (tx) => tx.any(all));
    const scanFiltered = await timed(db, false, a, (tx) => tx.any(filtered));
    const scanRls = await timed(db, true, a, (tx) => tx.any(all));
    const ids = Array.from({ length: 1000 }, (_, i) => `prompt-${((i * 7) % 10000) + 1}`);
    const lookups = async (tx: any) => {
      for (const id of ids) await tx.maybeOne(sql.unsafe`SELECT id, name FROM prompts WHERE unique_id = ${id} LIMIT 1`);
    };
    const lookupBypass = await timed(db, false, a, lookups);
    const lookupRls = await timed(db, true, a, lookups);
    // The same lookups as a named prepared statement, as most drivers and ORMs send them: the plan
    // (RLS quals included) is made once, so what remains is RLS's execution cost.
    let prepared = 'n/a';
    if (backend === 'postgres') {
      const url = new URL(serverUrl);
      url.pathname = `/${await db.pool.oneFirst(sql.type(z.object({ d: z.string() }))`SELECT current_database() AS d`)}`;
      const measure = async (asApp: boolean) => {
        const c = new pg.Client({ connectionString: url.toString() });
        await c.connect();
        const samples: number[] = [];
        for (let r = 0; r < runs; r++) {
          await c.query('BEGIN');
          if (asApp) {
            await c.query("SELECT set_config('role', 'canon_app', true)");
            await c.query("SELECT set_config('app.current_tenant_id', $1, true)", [a]);
          }
          const t = performance.now();
          for (const uid of ids)
            await c.query({
              name: `lookup_${asApp}`,
              text: 'SELECT id, name FROM prompts WHERE unique_id = $1 LIMIT 1',
              values: [uid],
            });
          samples.push(performance.now() - t);
          await c.query('ROLLBACK');
        }
        await c.end();
        return median(samples) / 1000;
      };
      const bypassPrepared = await measure(false);
      const rlsPrepared = await measure(true);
      prepared = `${bypassPrepared.toFixed(3)} / ${rlsPrepared.toFixed(3)} (${(rlsPrepared / bypassPrepared).toFixed(2)}×)`;
    }
    rows.push([
      backend,
      `${await count(all, false)} / ${await count(filtered, false)} / ${await count(all, true)}`,
      scanAll.toFixed(1),
      scanFiltered.toFixed(1),
      scanRls.toFixed(1),
      `${(scanRls / scanFiltered).toFixed(2)}×`,
      (lookupBypass / 1000).toFixed(3),
      (lookupRls / 1000).toFixed(3),
      `${(lookupRls / lookupBypass).toFixed(2)}×`,
      prepared,
    ]);
  } finally {
    await db.close();
    await drop();
  }
}
console.log(
  '| backend | rows (all / filtered / RLS) | SELECT all, bypass ms | hand filter, bypass ms | SELECT as tenant, RLS ms | RLS / hand filter | lookup bypass ms | lookup RLS ms | RLS / bypass | prepared lookup bypass / RLS ms |',
);
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);

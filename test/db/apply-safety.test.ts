import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApplyLockTimeoutError, applyLockKey } from '../../src/apply/lock.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { writeSyntheticRegistry } from '../bench/synthetic.ts';
import { cliPath } from '../support/built-cli.ts';
import { backends } from '../support/databases.ts';
import { apply, copyRegistry, edit, openApplied, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

/** The server URL of the test database `db` is connected to, for a second connection to it. */
async function urlOf(db: Database): Promise<URL> {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${String(await db.pool.oneFirst(sql.unsafe`SELECT current_database()`))}`;
  return url;
}

const count = (db: Database, table: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM ${sql.identifier([table])}`);
const fingerprint = (db: Database) =>
  db.pool.oneFirst(sql.type(z.object({ f: z.string() }))`
  SELECT md5(coalesce((SELECT string_agg(p::text, '|' ORDER BY p.id) FROM prompts p), '') || (SELECT count(*) FROM entity_versions)::text || (SELECT count(*) FROM canon_applies)::text) AS f`);

/** Rewrites every synthetic asset's text, so an apply has thousands of rows to update. */
function touchAll(dir: string) {
  for (const f of readdirSync(dir))
    writeFileSync(
      join(dir, f),
      readFileSync(join(dir, f), 'utf8').replaceAll('follow the standard', 'FOLLOW the standard'),
    );
}

/** Runs `canon apply` in a child process and SIGKILLs it once `ready` says the transaction is under way. */
async function killApplyMidway(args: string[], ready: (child: ReturnType<typeof spawn>) => Promise<void>) {
  const child = spawn(process.execPath, [cliPath, 'apply', '--auto-approve', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '' },
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? -1 : code)),
  );
  await Promise.race([
    ready(child),
    exited.then((code) => {
      throw new Error(`apply finished (exit ${code}) before it could be killed`);
    }),
  ]);
  child.kill('SIGKILL');
  expect(await exited).toBe(-1);
}

for (const backend of backends) {
  describe(`apply safety on ${backend.name}`, () => {
    const vec = backend.vector;
    let db: Database;
    afterEach(async () => db?.close());

    it('a no-op apply runs no statement and writes nothing', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const before = {
        applies: await count(db, 'canon_applies'),
        versions: await count(db, 'entity_versions'),
        f: await fingerprint(db),
      };
      const latest = await db.pool.oneFirst(sql.unsafe`SELECT max(updated_at) FROM agents`);
      const again = await apply(db, dir, vec);
      expect(again).toMatchObject({ status: 'unchanged', statements: 0 });
      expect({
        applies: await count(db, 'canon_applies'),
        versions: await count(db, 'entity_versions'),
        f: await fingerprint(db),
      }).toEqual(before);
      expect(await db.pool.oneFirst(sql.unsafe`SELECT max(updated_at) FROM agents`)).toBe(latest);
    });

    it('touches updated_at and version only of the asset that changed, and records the apply', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const stamps = await db.pool.any(
        sql.type(
          z.object({ unique_id: z.string(), updated_at: z.number(), version: z.number() }),
        )`SELECT unique_id, updated_at, version FROM tools ORDER BY unique_id`,
      );
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 470');
      const result = await apply(db, dir, vec);
      expect(result.status).toBe('applied');
      const after = await db.pool.any(
        sql.type(
          z.object({ unique_id: z.string(), updated_at: z.number(), version: z.number() }),
        )`SELECT unique_id, updated_at, version FROM tools ORDER BY unique_id`,
      );
      const moved = after
        .filter((row, i) => row.updated_at !== stamps[i]!.updated_at || row.version !== stamps[i]!.version)
        .map((r) => [r.unique_id, r.version]);
      expect(moved).toEqual([['pubmed-search', 2]]);
      const record = await db.pool.one(sql.type(
        z.object({
          creates: z.number(),
          updates: z.number(),
          deletes: z.number(),
          duration_ms: z.number().nullable(),
          plan_hash: z.string(),
        }),
      )`
        SELECT creates, updates, deletes, duration_ms, plan_hash FROM canon_applies ORDER BY started_at DESC, finished_at DESC LIMIT 1`);
      expect(record).toMatchObject({ creates: 0, updates: 1, deletes: 0 });
      expect(record.duration_ms).toBeGreaterThanOrEqual(0);
      if (result.status === 'applied') expect(record.plan_hash).toBe(result.plan.planHash);
    });

    it('rolls back everything when a statement fails: the database stays exactly as it was', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const before = await fingerprint(db);
      edit(
        dir,
        'platform/prompts.yaml',
        'name: Structured Literature Summary',
        'name: Structured Literature Summary v2',
      );
      // Someone added a stricter rule behind Canon's back: the upsert now fails half-way through the apply.
      await db.pool.query(sql.unsafe`ALTER TABLE prompts ADD CONSTRAINT external_rule CHECK (name NOT LIKE '%v2')`);
      // The error names the asset and where it is written, and says nothing was changed.
      await expect(apply(db, dir, vec)).rejects.toThrow(
        /^.*registry\/platform\/prompts\.yaml:54:5: Prompt 'literature-summary': statement \d+ of \d+ \(upsert prompts\) failed: .*external_rule.*nothing was changed$/s,
      );
      expect(await fingerprint(db)).toBe(before);
    });
  });
}

const server = backends.find((b) => b.name === 'postgres');
describe.runIf(server)('concurrent applies on the PostgreSQL server', () => {
  it('waits for the lock, then gives up naming the holder', async () => {
    const db = await openApplied(server!);
    const url = await urlOf(db);
    const other = await openDatabase({ backend: 'postgres', url: url.toString() });
    try {
      const dir = copyRegistry();
      let release!: () => void;
      let locked!: () => void;
      const released = new Promise<void>((r) => {
        release = r;
      });
      const isLocked = new Promise<void>((r) => {
        locked = r;
      });
      // The holder runs on its own: slonik refuses queries on other pools from inside a transaction's async context.
      const holding = other.pool.connect(async (holder) => {
        await holder.query(sql.unsafe`SELECT set_config('application_name', 'canon apply', false)`);
        await holder.transaction(async (tx) => {
          await tx.query(sql.unsafe`SELECT pg_advisory_xact_lock(${applyLockKey}::bigint)`);
          locked();
          await released;
        });
      });
      await isLocked;
      const started = Date.now();
      const error = await apply(db, dir, false, { lockTimeoutMs: 600 }).catch((e: unknown) => e);
      release();
      await holding;
      expect(error).toBeInstanceOf(ApplyLockTimeoutError);
      expect((error as Error).message).toMatch(/^another apply holds the lock: process \d+ \(canon apply, user \w+/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    } finally {
      await other.close();
      await db.close();
    }
  });

  it('serializes two applies started together: both succeed, one after the other', async () => {
    const db = await openApplied(server!);
    const url = await urlOf(db);
    const other = await openDatabase({ backend: 'postgres', url: url.toString() });
    try {
      const dir = copyRegistry();
      const a = copyRegistry(dir);
      edit(a, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 451');
      const b = copyRegistry(dir);
      edit(b, 'platform/tools.yaml', 'avg_response_time_ms: 600', 'avg_response_time_ms: 601');
      const results = await Promise.all([apply(db, a, false), apply(other, b, false)]);
      expect(results.map((r) => r.status)).toEqual(['applied', 'applied']);
      const windows = await db.pool.any(
        sql.type(
          z.object({ started_at: z.number(), finished_at: z.number() }),
        )`SELECT started_at, finished_at FROM canon_applies ORDER BY finished_at DESC LIMIT 2`,
      );
      expect(windows).toHaveLength(2);
      // The later apply planned after the earlier one committed: its plan reverted the other's edit.
      const times = await db.pool.anyFirst(
        sql.unsafe`SELECT avg_response_time_ms FROM tools WHERE unique_id IN ('pubmed-search', 'clinicaltrials-gov') ORDER BY unique_id`,
      );
      expect([
        [601, 450],
        [600, 451],
      ]).toContainEqual(times);
    } finally {
      await other.close();
      await db.close();
    }
  });

  it('an apply killed mid-way (SIGKILL) leaves the database exactly as before, and a rerun succeeds', async () => {
    const db = await server!.open();
    const url = await urlOf(db);
    try {
      const dir = join(tempDir('canon-kill-'), 'registry');
      writeSyntheticRegistry(dir, 3000);
      await apply(db, dir, false);
      const before = await fingerprint(db);
      touchAll(dir);
      await killApplyMidway(['--dir', dir, '--database', url.toString(), '--no-embeddings'], async () => {
        for (;;) {
          const held = await db.pool.oneFirst(
            sql.unsafe`SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory' AND objid = ${applyLockKey}::bigint::oid AND granted`,
          );
          if (held === 1) return;
          await new Promise((r) => setTimeout(r, 20));
        }
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(await fingerprint(db)).toBe(before);
      const rerun = await apply(db, dir, false);
      expect(rerun.status).toBe('applied');
      expect((await plan(db, dir, false)).plan.changes).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

describe('the embedded database survives a killed apply', () => {
  it('an apply killed mid-way leaves the data folder as before, and a rerun succeeds', async () => {
    const dataDir = join(tempDir('canon-kill-'), 'db');
    const dir = join(tempDir('canon-kill-'), 'registry');
    writeSyntheticRegistry(dir, 3000);
    // The in-process applies below use 8-dimension embeddings; the CLI reads that from canon.yaml.
    writeFileSync(join(dir, 'canon.yaml'), 'embeddings:\n  dimensions: 8\n');
    let db = await openDatabase({ backend: 'pglite', dataDir });
    await apply(db, dir, true);
    const before = await fingerprint(db);
    await db.close();
    touchAll(dir);
    await killApplyMidway(
      ['--dir', dir, '--database', `pglite:${dataDir}`],
      (child) =>
        new Promise((resolve) => {
          child.stderr!.on('data', (chunk: Buffer) => {
            if (chunk.toString().includes('Applying')) resolve();
          });
        }),
    );
    db = await openDatabase({ backend: 'pglite', dataDir });
    try {
      expect(await fingerprint(db)).toBe(before);
      expect((await apply(db, dir, true)).status).toBe('applied');
      expect((await plan(db, dir, true)).plan.changes).toEqual([]);
    } finally {
      await db.close();
    }
  });
});

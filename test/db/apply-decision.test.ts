import type { QuerySqlToken } from 'slonik';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplyRefusedError } from '../../src/apply/apply.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { Plan } from '../../src/plan/model.ts';
import { type Backend, backends } from '../support/databases.ts';
import { apply, copyRegistry, edit, openApplied } from '../support/registry.ts';

/** A second session on the same database: PGlite has one session, used directly; the server gets a new connection. */
async function otherSession(backend: Backend, db: Database) {
  if (backend.name === 'pglite') {
    const query = async (q: QuerySqlToken) =>
      (await db.pglite!.query<Record<string, unknown>>(q.sql, [...q.values])).rows;
    return { query, apply: db, close: async () => {} };
  }
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${String(await db.pool.oneFirst(sql.unsafe`SELECT current_database()`))}`;
  const other = await openDatabase({ backend: 'postgres', url: url.toString() });
  return {
    query: async (q: QuerySqlToken) => [...(await other.pool.any(q))] as Record<string, unknown>[],
    apply: other,
    close: () => other.close(),
  };
}

/** What the apply's session holds while a person decides: an open transaction, the advisory lock. */
async function whileDeciding(backend: Backend, db: Database, other: Awaited<ReturnType<typeof otherSession>>) {
  const [row] = await other.query(sql.unsafe`SELECT
    (SELECT count(*)::int FROM pg_locks WHERE locktype = 'advisory'
      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS advisory_locks,
    (SELECT count(*)::int FROM pg_stat_activity
      WHERE datname = current_database() AND state LIKE 'idle in transaction%') AS idle_in_transaction`);
  // PGlite has one session, the apply's: it says itself whether a transaction is open.
  const inTransaction = backend.name === 'pglite' ? db.pglite!.isInTransaction() : row!.idle_in_transaction !== 0;
  return { ...row, in_transaction: inTransaction };
}

const whileDecided = "while you were deciding; nothing was applied. Run 'canon apply' again to review the new plan";
const responseTime = (db: Database) =>
  db.pool.oneFirst(sql.unsafe`SELECT avg_response_time_ms FROM tools WHERE unique_id = 'pubmed-search'`);

for (const backend of backends) {
  describe(`canon apply asks before it locks, on ${backend.name}`, () => {
    const vec = backend.vector;
    let db: Database;
    let other: Awaited<ReturnType<typeof otherSession>> | undefined;
    afterEach(async () => {
      await other?.close();
      await db?.close();
    });

    it('holds no transaction and no lock while a person decides', async () => {
      db = await openApplied(backend);
      other = await otherSession(backend, db);
      const dir = copyRegistry();
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      let seen: unknown;
      const confirm = async () => {
        seen = await whileDeciding(backend, db, other!);
        return true;
      };
      const result = await apply(db, dir, vec, { confirm });
      expect(seen).toMatchObject({ in_transaction: false, advisory_locks: 0 });
      expect(result.status).toBe('applied');
    });

    it('refuses when the database changed while the person decided, and writes nothing', async () => {
      db = await openApplied(backend);
      other = await otherSession(backend, db);
      const dir = copyRegistry();
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const applies = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`);
      const confirm = async () => {
        await other!.query(sql.unsafe`UPDATE tools SET avg_response_time_ms = 999 WHERE unique_id = 'pubmed-search'`);
        return true;
      };
      const error = await apply(db, dir, vec, { confirm }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplyRefusedError);
      expect((error as Error).message).toBe(`the database changed ${whileDecided}`);
      expect(await responseTime(db)).toBe(999);
      expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`)).toBe(applies);
    });

    it('refuses when the registry changed while the person decided', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const confirm = async () => {
        edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 455', 'avg_response_time_ms: 456');
        return true;
      };
      await expect(apply(db, dir, vec, { confirm })).rejects.toThrow(
        new ApplyRefusedError(`the registry changed ${whileDecided}`),
      );
      expect(await responseTime(db)).toBe(450);
    });

    it('lets another apply run while a person decides; the decided plan is then stale', async () => {
      db = await openApplied(backend);
      other = await otherSession(backend, db);
      const dir = copyRegistry();
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const theirs = copyRegistry(dir);
      edit(theirs, 'platform/tools.yaml', 'avg_response_time_ms: 455', 'avg_response_time_ms: 460');
      const applies = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`);
      let decided: Plan | undefined;
      const confirm = async (plan: Plan) => {
        decided = plan;
        const result = await apply(other!.apply, theirs, vec, { lockTimeoutMs: 1_000 });
        expect(result.status).toBe('applied');
        return true;
      };
      await expect(apply(db, dir, vec, { confirm })).rejects.toThrow(`the database changed ${whileDecided}`);
      expect(decided?.summary.update).toBe(1);
      expect(await responseTime(db)).toBe(460);
      // Only the other apply was recorded.
      expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`)).toBe(applies + 1);
    });
  });
}

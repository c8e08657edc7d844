import { describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { runCli } from '../support/cli.ts';
import { backends } from '../support/databases.ts';
import { apply, copyRegistry, edit } from '../support/registry.ts';

const cli = runCli;

const responseTime = (db: Database) =>
  db.pool.oneFirst(sql.unsafe`SELECT avg_response_time_ms FROM tools WHERE unique_id = 'pubmed-search'`);

async function urlOf(db: Database): Promise<string> {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${String(await db.pool.oneFirst(sql.unsafe`SELECT current_database()`))}`;
  return url.toString();
}

/** Runs `during` while another session holds ACCESS EXCLUSIVE on `table` (what an application's ALTER TABLE takes). */
async function whileLocked<T>(url: string, table: string, during: () => Promise<T>): Promise<T> {
  const holder = await openDatabase({ backend: 'postgres', url });
  let release!: () => void;
  let locked!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const isLocked = new Promise<void>((r) => {
    locked = r;
  });
  const holding = holder.pool.connect(async (c) => {
    await c.query(sql.unsafe`SELECT set_config('application_name', 'schema migration', false)`);
    await c.transaction(async (tx) => {
      await tx.query(sql.unsafe`LOCK TABLE ${sql.identifier([table])} IN ACCESS EXCLUSIVE MODE`);
      locked();
      await released;
    });
  });
  try {
    await isLocked;
    return await during();
  } finally {
    release();
    await holding;
    await holder.close();
  }
}

// PGlite has a single session: no other session can hold a lock there, so these run on the server.
const server = backends.find((b) => b.name === 'postgres');
describe.runIf(server)('--lock-timeout and --statement-timeout bound every statement, planning included', () => {
  it('canon plan gives up on a locked table after --lock-timeout, naming the holder', async () => {
    const db = await server!.open();
    try {
      const dir = copyRegistry();
      await apply(db, dir, false);
      const url = await urlOf(db);
      const args = ['plan', '--dir', dir, '--database', url, '--no-embeddings', '--lock-timeout', '1s'];
      const result = await whileLocked(url, 'agents', () => cli(args));
      expect(result.stderr).toMatch(
        new RegExp(
          '^canon plan: gave up waiting for a lock after 1s \\(--lock-timeout\\): ' +
            'table agents is locked by process \\d+ \\(schema migration, user \\w+\\); nothing was changed\n$',
        ),
      );
      expect(result.status).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('canon plan gives up after --statement-timeout when the lock wait is longer', async () => {
    const db = await server!.open();
    try {
      const dir = copyRegistry();
      await apply(db, dir, false);
      const url = await urlOf(db);
      const args = ['plan', '--dir', dir, '--database', url, '--no-embeddings'];
      args.push('--statement-timeout', '1s', '--lock-timeout', '10m');
      const result = await whileLocked(url, 'prompts', () => cli(args));
      expect(result.stderr).toBe(
        'canon plan: a statement ran longer than 1s (--statement-timeout) and was cancelled; ' +
          'nothing was changed\n',
      );
      expect(result.status).toBe(1);
    } finally {
      await db.close();
    }
  });

  it('canon apply gives up while planning under its lock, and writes nothing', async () => {
    const db = await server!.open();
    try {
      const dir = copyRegistry();
      await apply(db, dir, false);
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const url = await urlOf(db);
      const applies = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`);
      const args = ['apply', '--dir', dir, '--database', url, '--no-embeddings', '--auto-approve'];
      args.push('--lock-timeout', '1s');
      const result = await whileLocked(url, 'tools', () => cli(args));
      expect(result.stderr).toMatch(
        new RegExp(
          '^canon apply: gave up waiting for a lock after 1s ' +
            '\\(--lock-timeout\\): ' +
            'table tools is locked by process \\d+ \\(schema migration, user \\w+\\); nothing was changed\n$',
        ),
      );
      expect(result.status).toBe(1);
      expect(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM canon_applies`)).toBe(applies);
      expect(await responseTime(db)).toBe(450);
    } finally {
      await db.close();
    }
  });
});

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { serverDatabasePrefix, sharedDatabasePrefix } from './run.ts';

/**
 * Once per `vitest run`, before any worker starts. /tmp and the PostgreSQL server are shared with other
 * processes (other checkouts run this suite at the same time), so everything this run makes is scoped
 * to it: the workers, and every process they start, make their temporary folders in a folder of the
 * run's own (TMPDIR), and name server databases after the run. The teardown removes both, and fails the
 * run when a test left anything behind.
 */
export default function setup() {
  const root = mkdtempSync(join(tmpdir(), 'canon-test-run-'));
  const temp = join(root, 'tmp');
  const cache = join(root, 'cache');
  mkdirSync(temp);
  mkdirSync(cache);
  // Traversable by other users: tests that drop privileges (seteuid nobody, to make EACCES real when
  // the suite runs as root) must reach their own folders below these.
  chmodSync(root, 0o711);
  chmodSync(temp, 0o711);
  const previousTmpdir = process.env.TMPDIR;
  process.env.TMPDIR = temp;
  process.env.CANON_TEST_CACHE = cache;
  process.env.CANON_TEST_RUN = randomBytes(4).toString('hex');

  return async function teardown() {
    const problems: string[] = [];
    // Tools keep caches in the temp folder (tsx's transpile cache); those are not a test's to remove.
    const leftFolders = readdirSync(temp).filter((name) => !/^tsx-/.test(name));
    if (leftFolders.length > 0) {
      problems.push(
        `${leftFolders.length} temporary folder(s) left behind: ${leftFolders.join(', ')}. ` +
          'Make them with tempDir() from test/support/temp.ts, which removes them when the file ends.',
      );
    }
    rmSync(root, { recursive: true, force: true });
    if (previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previousTmpdir;

    const shared = sharedDatabasePrefix();
    const leftDatabases = (await dropServerDatabases(serverDatabasePrefix())).filter((n) => !n.startsWith(shared));
    if (leftDatabases.length > 0) {
      problems.push(
        `${leftDatabases.length} server database(s) were still there after their test files ended ` +
          `(dropped now): ${leftDatabases.join(', ')}`,
      );
    }
    if (problems.length > 0) {
      // Vitest reports an error thrown here but still exits 0 when every test passed.
      process.exitCode = 1;
      throw new Error(`The test run did not clean up after itself:\n- ${problems.join('\n- ')}`);
    }
  };
}

/** Drops this run's databases that are still on the server (a worker that crashed never drops its own). */
async function dropServerDatabases(prefix: string): Promise<string[]> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) return [];
  const admin = await openDatabase(parseDatabaseSpec(url));
  try {
    const names = await admin.pool.anyFirst(sql.type(z.object({ datname: z.string() }))`
      SELECT datname FROM pg_database WHERE starts_with(datname, ${prefix}) ORDER BY datname`);
    for (const name of names)
      await admin.pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
    return [...names];
  } finally {
    await admin.close();
  }
}

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/db/errors.ts';
import { DatabaseLockedError } from '../../src/db/lock.ts';
import { openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { canon, canonProcess } from '../support/cli.ts';
import { testServerUrl } from '../support/databases.ts';
import { tempDir } from '../support/temp.ts';

describe('database specs', () => {
  it('defaults to the embedded database, and reads memory:, pglite: and postgres URLs', () => {
    expect(parseDatabaseSpec(undefined, {})).toEqual({ backend: 'pglite', dataDir: join('.canon', 'db') });
    expect(parseDatabaseSpec(undefined, { DATABASE_URL: 'postgres://u@h/d' })).toEqual({
      backend: 'postgres',
      url: 'postgres://u@h/d',
    });
    expect(parseDatabaseSpec('memory:', {})).toEqual({ backend: 'pglite', dataDir: null });
    expect(parseDatabaseSpec('pglite:/tmp/x', {})).toEqual({ backend: 'pglite', dataDir: '/tmp/x' });
    expect(() => parseDatabaseSpec('mysql://u:secret@h/d', {})).toThrow("unknown database 'mysql://u:***@h/d'");
  });
});

describe('the embedded database', () => {
  it('keeps data in its folder across opens', async () => {
    const dir = join(tempDir('canon-db-'), 'db');
    const first = await openDatabase({ backend: 'pglite', dataDir: dir });
    await first.pool.query(sql.unsafe`CREATE TABLE kept (v int)`);
    await first.pool.query(sql.unsafe`INSERT INTO kept VALUES (42)`);
    await first.close();
    const second = await openDatabase({ backend: 'pglite', dataDir: dir });
    expect(await second.pool.oneFirst(sql.unsafe`SELECT v FROM kept`)).toBe(42);
    await second.close();
  });

  it('refuses a second opener while the first holds it, in this process and in another', async () => {
    const dir = join(tempDir('canon-db-'), 'db');
    const holder = await openDatabase({ backend: 'pglite', dataDir: dir }, { purpose: 'test holder' });
    try {
      await expect(openDatabase({ backend: 'pglite', dataDir: dir })).rejects.toThrow(DatabaseLockedError);
      // The database folder itself, not the folder it sits in.
      const second = openDatabase({ backend: 'pglite', dataDir: dir });
      await expect(second).rejects.toThrow(`the embedded database ${dir} is in use`);
      const other = canonProcess(['migrate', '--database', `pglite:${dir}`]);
      expect(other.status).toBe(1);
      expect(other.stderr).toMatch(
        new RegExp(`^canon migrate: the embedded database .* is in use by process ${process.pid} \\(test holder`),
      );
      expect(other.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await holder.close();
    }
    const after = await openDatabase({ backend: 'pglite', dataDir: dir });
    await after.close();
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    const dir = join(tempDir('canon-db-'), 'db');
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `
      import('./src/db/open.ts').then(async ({ openDatabase }) => {
        await openDatabase({ backend: 'pglite', dataDir: ${JSON.stringify(dir)} });
        process.stdout.write('locked\\n');
        setInterval(() => {}, 1000);
      });`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => child.stdout!.once('data', () => resolve()));
    await expect(openDatabase({ backend: 'pglite', dataDir: dir })).rejects.toThrow(DatabaseLockedError);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const db = await openDatabase({ backend: 'pglite', dataDir: dir });
    expect(await db.pool.oneFirst(sql.unsafe`SELECT 1`)).toBe(1);
    await db.close();
  });
});

describe('PostgreSQL servers', () => {
  it('reports a refused connection in one line', async () => {
    await expect(openDatabase(parseDatabaseSpec('postgres://postgres@127.0.0.1:1/test'))).rejects.toThrow(
      new DatabaseError(
        'connection refused by postgres://postgres@127.0.0.1:1/test: is PostgreSQL running and listening there?',
      ),
    );
    const result = await canon(['migrate', '--database', 'postgres://postgres:hunter2@127.0.0.1:1/test']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'canon migrate: connection refused by postgres://postgres:***@127.0.0.1:1/test: is PostgreSQL running and listening there?\n',
    );
  });

  it.runIf(testServerUrl)(
    'reports an unknown database, an unknown role and a TLS mismatch in one line each',
    async () => {
      const url = new URL(testServerUrl!);
      const variant = (edit: (u: URL) => void) => {
        const u = new URL(url);
        edit(u);
        return u.toString();
      };
      await expect(
        openDatabase(
          parseDatabaseSpec(
            variant((u) => {
              u.pathname = '/canon_no_such_db';
            }),
          ),
        ),
      ).rejects.toThrow(/^database does not exist at .*: create it/);
      await expect(
        openDatabase(
          parseDatabaseSpec(
            variant((u) => {
              u.username = 'canon_no_such_role';
            }),
          ),
        ),
      ).rejects.toThrow(/refused the login|authentication failed/);
      await expect(
        openDatabase(
          parseDatabaseSpec(
            variant((u) => {
              u.search = '?sslmode=require';
            }),
          ),
        ),
      ).rejects.toThrow(/^TLS failed connecting to .*adjust sslmode/);
    },
  );
});

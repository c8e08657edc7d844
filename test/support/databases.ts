import { randomBytes } from 'node:crypto';
import { afterAll } from 'vitest';
import { openDatabase, parseDatabaseSpec, type Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { serverDatabasePrefix } from './run.ts';

/**
 * The backends every database test runs on: PGlite always, and the PostgreSQL server named by
 * TEST_DATABASE_URL when set (CI sets it). Each test gets a database of its own: a fresh in-memory
 * PGlite, or a database created on the server for it and dropped afterwards.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** Whether pgvector is available (PGlite ships it; the local server has none). */
  vector: boolean;
  open(): Promise<Database>;
}

const serverUrl = process.env.TEST_DATABASE_URL;
const created: { admin: Database; names: string[] } = { admin: undefined as never, names: [] };

async function admin(): Promise<Database> {
  created.admin ??= await openDatabase(parseDatabaseSpec(serverUrl));
  return created.admin;
}

afterAll(async () => {
  if (!created.admin) return;
  for (const name of created.names) await created.admin.pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
  await created.admin.close();
});

export const backends: Backend[] = [
  { name: 'pglite', vector: true, open: () => openDatabase({ backend: 'pglite', dataDir: null }) },
  ...(serverUrl
    ? [{
        name: 'postgres' as const,
        vector: false,
        async open() {
          const name = `${serverDatabasePrefix()}${randomBytes(6).toString('hex')}`;
          await (await admin()).pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
          created.names.push(name);
          const url = new URL(serverUrl);
          url.pathname = `/${name}`;
          return openDatabase({ backend: 'postgres', url: url.toString() });
        },
      }]
    : []),
];

/** A server URL the tests may use directly, when TEST_DATABASE_URL is set. */
export const testServerUrl = serverUrl;

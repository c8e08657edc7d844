import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';

export interface FreshDatabase {
  db: Database;
  /** The server database's URL (absent for PGlite, which lives in memory). */
  url?: string;
  drop(): Promise<void>;
}

/** An empty database for a benchmark: PGlite in memory, or a new database on the server, dropped by `drop`. */
export async function freshDatabase(backend: string, serverUrl: string, prefix: string): Promise<FreshDatabase> {
  const limits = { statementTimeoutMs: 600_000 };
  if (backend === 'pglite') {
    const db = await openDatabase({ backend: 'pglite', dataDir: null }, limits);
    return { db, drop: () => db.close() };
  }
  const admin = await openDatabase({ backend: 'postgres', url: serverUrl });
  const name = `${prefix}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ backend: 'postgres', url: url.toString() }, limits);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      await admin.pool.query(sql.unsafe`DROP DATABASE ${sql.identifier([name])} WITH (FORCE)`);
      await admin.close();
    },
  };
}

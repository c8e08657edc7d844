import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll } from 'vitest';
import { type Database, openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { Backend } from './databases.ts';
import { testServerUrl } from './databases.ts';
import { serverDatabasePrefix } from './run.ts';
import { tempDir } from './temp.ts';

export const legacyFixtureSql = readFileSync('test/fixtures/legacy/source.sql', 'utf8');
/** The fixture's tables, from its own text (not from the mapping under test). */
export const legacyTables = [...legacyFixtureSql.matchAll(/^CREATE TABLE (\w+)/gm)].map((m) => m[1]!);

const made: string[] = [];
afterAll(async () => {
  if (made.length === 0) return;
  const admin = await openDatabase(parseDatabaseSpec(testServerUrl));
  try {
    for (const name of made.splice(0))
      await admin.pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
  } finally {
    await admin.close();
  }
});

/**
 * A legacy database built from test/fixtures/legacy/source.sql, as the CLI reaches it: a PGlite data
 * folder (`pglite:<folder>`) or a database of its own on the test server (a postgres:// URL).
 */
export async function legacySource(backend: Backend): Promise<string> {
  if (backend.name === 'pglite') {
    const dir = join(tempDir('canon-legacy-'), 'source');
    const pglite = await PGlite.create(dir);
    await pglite.exec(legacyFixtureSql);
    await pglite.close();
    return `pglite:${dir}`;
  }
  const name = `${serverDatabasePrefix()}legacy_${randomBytes(5).toString('hex')}`;
  const admin = await openDatabase(parseDatabaseSpec(testServerUrl));
  try {
    await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
  } finally {
    await admin.close();
  }
  made.push(name);
  const url = new URL(testServerUrl!);
  url.pathname = `/${name}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    await client.query(legacyFixtureSql); // several statements: the simple query protocol
  } finally {
    await client.end();
  }
  return url.toString();
}

export const openSource = (spec: string): Promise<Database> => openDatabase(parseDatabaseSpec(spec, {}));

/** Per legacy table: its row count and an md5 over every row's text, in a stable order. */
export async function checksums(spec: string): Promise<Record<string, string>> {
  const db = await openSource(spec);
  try {
    const out: Record<string, string> = {};
    for (const table of legacyTables) {
      const t = sql.identifier([table]);
      out[table] = String(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
            FROM ${t} AS t`,
        ),
      );
    }
    return out;
  } finally {
    await db.close();
  }
}

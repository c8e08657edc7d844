import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { createPool, type DatabasePool } from 'slonik';
import { z } from 'zod';
import { DatabaseError, describeConnectionError } from './errors.ts';
import { lockDataDirectory } from './lock.ts';
import { createServerDriverFactory, type ServerSession } from './pg-driver.ts';
import { createPgliteDriverFactory } from './pglite-driver.ts';
import { connectionSecrets, hideSecrets, redactDatabaseUrl, redactUnknownSpec, unusableUrlReason } from './redact.ts';
import { sql } from './sql.ts';

export type Backend = 'pglite' | 'postgres';

/** The one interface every stage uses, whichever backend is behind it. */
export interface Database {
  pool: DatabasePool;
  backend: Backend;
  /** For messages: `.canon/db`, `memory:`, or the server URL without its password. */
  label: string;
  /**
   * The PostgreSQL schema Canon's objects live in: `schema:` in canon.yaml (or --schema), else the
   * session's current_schema() when the database was opened. Every catalog read names it.
   */
  schema: string;
  /** Whether the schema was configured, so that every session's search_path is Canon's own. */
  schemaConfigured: boolean;
  /** The PGlite instance, when embedded (tests clone it; vector array types need refreshing). */
  pglite?: PGlite;
  close(): Promise<void>;
}

export const defaultDataDirectory = join('.canon', 'db');

export type DatabaseSpec = { backend: 'pglite'; dataDir: string | null } | { backend: 'postgres'; url: string };

/** `--database` (or DATABASE_URL) → what to open. No spec: the embedded database under .canon/. */
export function parseDatabaseSpec(option: string | undefined, env: NodeJS.ProcessEnv = process.env): DatabaseSpec {
  const spec = option ?? (env.DATABASE_URL || undefined);
  if (spec === undefined) return { backend: 'pglite', dataDir: defaultDataDirectory };
  if (spec === 'memory:' || spec === 'memory') return { backend: 'pglite', dataDir: null };
  if (spec.startsWith('pglite:')) {
    const dir = spec.slice('pglite:'.length);
    if (dir === '') throw new DatabaseError(`--database pglite: needs a folder, e.g. pglite:.canon/db`);
    return { backend: 'pglite', dataDir: dir };
  }
  if (/^postgres(ql)?:\/\//.test(spec)) {
    const unusable = unusableUrlReason(spec);
    // Not quoted: the part that does not parse may well be the password.
    if (unusable) {
      throw new DatabaseError(
        `${unusable}; it is not shown, as it may hold a password. Percent-encode @ : / ? # % ` +
          'in the user name and password (%40 %3A %2F %3F %23 %25)',
      );
    }
    return { backend: 'postgres', url: spec };
  }
  const shown = redactUnknownSpec(spec);
  const what = shown ? ` '${shown}'` : ' (not shown, as it may hold a password)';
  throw new DatabaseError(`unknown database${what}: use memory:, pglite:<folder> or a postgres:// URL`);
}

export interface OpenOptions {
  /** Why the database is opened, recorded in the embedded database's lock file. */
  purpose?: string;
  /** An existing PGlite instance to use (tests share and clone instances). */
  pglite?: PGlite;
  /** Limit for every statement (default 60 s); plan and apply set their own per session too. */
  statementTimeoutMs?: number;
  /** Limit for every wait on a lock (default 30 s). */
  lockTimeoutMs?: number;
  /**
   * Server only: how long the client waits for any answer before it drops the connection (default
   * twice the statement timeout: the statement's run, and as long again for it to travel).
   */
  queryTimeoutMs?: number;
  /** Server only: how long connecting may take (default 10 s). */
  connectTimeoutMs?: number;
  /** Server only: TCP keepalive idle time on both ends (default 30 s). */
  keepAliveIdleMs?: number;
  /**
   * The schema Canon's objects go into (validated by the caller): every session's search_path is set
   * to it, then the schema pgvector lives in. Absent: the session's own current_schema().
   */
  schema?: string;
}

/**
 * The server session's limits. The server ends a session left idle inside a transaction after one
 * statement timeout: Canon never waits between statements of a transaction longer than it takes
 * to send the next one, so only a vanished client (a hung network) trips it, and its locks go.
 */
export function serverSession(options: OpenOptions): ServerSession {
  const statementTimeoutMs = options.statementTimeoutMs ?? 60_000;
  return {
    statementTimeoutMs,
    lockTimeoutMs: options.lockTimeoutMs ?? 30_000,
    idleInTransactionTimeoutMs: statementTimeoutMs,
    queryTimeoutMs: options.queryTimeoutMs ?? 2 * statementTimeoutMs,
    connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
    keepAliveIdleMs: options.keepAliveIdleMs ?? 30_000,
    ...(options.schema ? { schema: options.schema } : {}),
  };
}

export async function openDatabase(spec: DatabaseSpec, options: OpenOptions = {}): Promise<Database> {
  return spec.backend === 'pglite' ? openEmbedded(spec.dataDir, options) : openServer(spec.url, options);
}

async function openEmbedded(dataDir: string | null, options: OpenOptions): Promise<Database> {
  const label = dataDir === null ? 'memory:' : dataDir;
  const unlock =
    dataDir === null || options.pglite ? () => {} : lockDataDirectory(resolve(dataDir), options.purpose ?? 'canon');
  let db: PGlite;
  try {
    db = options.pglite ?? (await PGlite.create(dataDir ?? undefined, { extensions: { vector } }));
  } catch (e) {
    unlock();
    throw new DatabaseError(`cannot open the embedded database ${label}: ${(e as Error).message}`);
  }
  const pool = await createPool('postgres://pglite/postgres', {
    driverFactory: createPgliteDriverFactory(db, options.schema),
    maximumPoolSize: 1,
    // Slonik's default DISCARD ALL after every query doubles round trips; Canon keeps no session state.
    resetConnection: async () => {},
    statementTimeout: options.statementTimeoutMs ?? 60_000,
    connectionTimeout: 'DISABLE_TIMEOUT',
    idleTimeout: 'DISABLE_TIMEOUT',
  });
  let schema: string;
  try {
    schema = await sessionSchema(pool, options.schema, label);
  } catch (e) {
    await pool.end();
    if (!options.pglite) await db.close();
    unlock();
    throw e;
  }
  return {
    pool,
    backend: 'pglite',
    label,
    schema,
    schemaConfigured: options.schema !== undefined,
    pglite: db,
    async close() {
      await pool.end();
      if (!options.pglite) await db.close();
      unlock();
    },
  };
}

async function openServer(url: string, options: OpenOptions): Promise<Database> {
  const label = redactDatabaseUrl(url);
  let pool: DatabasePool;
  const session = serverSession(options);
  try {
    pool = await createPool(url, {
      driverFactory: createServerDriverFactory(url, session),
      maximumPoolSize: 4,
      connectionRetryLimit: 0,
      connectionTimeout: session.connectTimeoutMs,
      resetConnection: async () => {},
    });
    // createPool connects lazily; ask once so a bad URL fails here, as one clear line.
    await pool.query(sql.unsafe`SELECT 1`);
  } catch (e) {
    // The driver's own words end some messages, and a driver may quote the URL it was given.
    throw new DatabaseError(hideSecrets(describeConnectionError(e, label).message, connectionSecrets(url)));
  }
  try {
    const schema = await sessionSchema(pool, options.schema, label);
    const schemaConfigured = options.schema !== undefined;
    return { pool, backend: 'postgres', label, schema, schemaConfigured, close: () => pool.end() };
  } catch (e) {
    await pool.end();
    throw e;
  }
}

/**
 * Which schema Canon's objects live in: the configured one (the drivers set search_path to it),
 * else current_schema().
 */
async function sessionSchema(pool: DatabasePool, configured: string | undefined, label: string): Promise<string> {
  if (configured) return configured;
  const current = await pool.oneFirst(sql.type(z.object({ s: z.string().nullable() }))`SELECT current_schema() AS s`);
  if (current === null) {
    throw new DatabaseError(
      `${label}: the session's search_path names no schema that exists, ` +
        'so Canon does not know where its tables are; set "schema:" in canon.yaml or pass --schema',
    );
  }
  return current;
}

import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { afterAll } from 'vitest';
import { type Database, openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { serverDatabasePrefix, sharedDatabasePrefix } from './run.ts';
import { tempDir } from './temp.ts';

/**
 * The backends every database test runs on: PGlite always, and the PostgreSQL server named by
 * TEST_DATABASE_URL when set (CI sets it). Each test gets a database of its own: an in-memory PGlite
 * started from a copy of a fresh data folder (a third of the cost of running initdb again), or a
 * database created on the server for it and dropped when its test file ends, also when it fails.
 */
export interface Backend {
  name: 'pglite' | 'postgres';
  /** For test titles: the backend, and the schema when one is configured. */
  label: string;
  /** The schema Canon is told to use (canon.yaml's `schema:`); undefined: the connection's own (public). */
  schema?: string;
  /** Whether pgvector is available (PGlite ships it; the local server has none). */
  vector: boolean;
  /** A new, empty database of its own. */
  open(): Promise<Database>;
  /**
   * A new database of its own that starts as a copy of what `prepare` made of an empty one, for tests
   * that all begin the same way (the example registry applied, say). `prepare` runs once per run, key,
   * schema and source text of `prepare`, on a database no test sees, whichever test file asks first; the
   * others wait for it and reuse it (a PGlite image in the run's cache folder, a server database the run's
   * teardown drops). Each call gets its own copy of the result (a PGlite started from the image, a server
   * database created with it as TEMPLATE), so tests stay independent. One key, one preparation per file:
   * a different `prepare` under a key already used is an error.
   */
  openPrepared(key: string, prepare: (db: Database) => Promise<void>): Promise<Database>;
}

type Prepare = (db: Database) => Promise<void>;

/**
 * Runs `make` once per key and schema, and remembers what each key was made with, so a reused key
 * cannot mean two things. `make` is also given a name for the preparation that is the same in every
 * test file of the run (the key, the schema and the preparation's source text, hashed): the run's code
 * does not change while it runs, so equal names mean equal databases.
 */
function onceByKey<T>(make: (prepare: Prepare, schema: string | undefined, runWideId: string) => Promise<T>) {
  const made = new Map<string, { source: string; value: Promise<T> }>();
  return (key: string, prepare: Prepare, schema: string | undefined): Promise<T> => {
    const source = String(prepare);
    const id = `${key}\0${schema ?? ''}`;
    let entry = made.get(id);
    if (!entry) {
      const runWideId = createHash('sha256').update(`${id}\0${source}`).digest('hex').slice(0, 16);
      made.set(id, (entry = { source, value: make(prepare, schema, runWideId) }));
    }
    if (entry.source !== source) throw new Error(`openPrepared: key '${key}' already names a different preparation`);
    return entry.value;
  };
}

/** Writes a file other processes may be reading for: whole or not at all (a temporary name, then rename). */
function writeWhole(file: string, bytes: Uint8Array) {
  const partial = `${file}.${process.pid}`;
  writeFileSync(partial, bytes);
  renameSync(partial, file);
}

const extensions = { vector };

/** The data folder (a tarball) of an instance, checkpointed first so that copies start without WAL replay. */
async function snapshot(pglite: PGlite): Promise<Blob> {
  try {
    await pglite.exec('CHECKPOINT');
    return await pglite.dumpDataDir('none');
  } finally {
    await pglite.close();
  }
}

let emptyImage: Promise<Blob> | undefined;

/** initdb's data folder, made once per run: the first test file that needs it leaves it in the run's cache. */
function pgliteEmptyImage(): Promise<Blob> {
  return (emptyImage ??= (async () => {
    const cache = process.env.CANON_TEST_CACHE;
    const file = cache ? join(cache, 'pglite-empty.tar') : undefined;
    if (file && existsSync(file)) return new Blob([readFileSync(file)]);
    const image = await snapshot(await PGlite.create({ extensions }));
    if (file) writeWhole(file, new Uint8Array(await image.arrayBuffer()));
    return image;
  })());
}

/**
 * A PGlite data folder of its own (for `--database pglite:<folder>`) that starts as initdb leaves one,
 * copied from the run's image: the CLI then opens it in under a second instead of running initdb
 * (2–4 s). Copies share initdb's system identifier; a test that needs two identities makes its own.
 */
export async function pgliteDataFolder(prefix = 'canon-pglite-'): Promise<string> {
  const dataDir = join(tempDir(prefix), 'db');
  await (await PGlite.create({ dataDir, loadDataDir: await pgliteEmptyImage(), extensions })).close();
  return dataDir;
}

const inSchema = (schema: string | undefined) => (schema ? { schema } : {});

async function openPglite(image: Blob, schema: string | undefined): Promise<Database> {
  const pglite = await PGlite.create({ loadDataDir: image, extensions });
  const db = await openDatabase({ backend: 'pglite', dataDir: null }, { pglite, ...inSchema(schema) });
  return {
    ...db,
    close: async () => {
      await db.close();
      await pglite.close();
    },
  };
}

const pglitePrepared = onceByKey(async (prepare, schema, runWideId) => {
  // Two files may prepare the same image at once: both write an equivalent one, and a reader sees one whole.
  const cache = process.env.CANON_TEST_CACHE;
  const file = cache ? join(cache, `pglite-prepared-${runWideId}.tar`) : undefined;
  if (file && existsSync(file)) return new Blob([readFileSync(file)]);
  const pglite = await PGlite.create({ loadDataDir: await pgliteEmptyImage(), extensions });
  try {
    const db = await openDatabase({ backend: 'pglite', dataDir: null }, { pglite, ...inSchema(schema) });
    try {
      await prepare(db);
    } finally {
      await db.close();
    }
  } catch (e) {
    await pglite.close();
    throw e;
  }
  const image = await snapshot(pglite);
  if (file) writeWhole(file, new Uint8Array(await image.arrayBuffer()));
  return image;
});

const serverUrl = process.env.TEST_DATABASE_URL;
let admin: Promise<Database> | undefined;
const created: string[] = [];

async function createServerDatabase(template?: string): Promise<string> {
  const name = `${serverDatabasePrefix()}${randomBytes(6).toString('hex')}`;
  const from = template ? sql.fragment`TEMPLATE ${sql.identifier([template])}` : sql.fragment``;
  await (await adminDatabase()).pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])} ${from}`);
  created.push(name);
  return name;
}

function openServerDatabase(name: string, schema: string | undefined): Promise<Database> {
  const url = new URL(serverUrl!);
  url.pathname = `/${name}`;
  return openDatabase({ backend: 'postgres', url: url.toString() }, inSchema(schema));
}

const adminDatabase = () => (admin ??= openDatabase(parseDatabaseSpec(serverUrl)));

/**
 * A database `prepare` ran on, with every connection to it closed (CREATE DATABASE … TEMPLATE needs
 * that), made once per run: under an advisory lock, so the first file makes it while the others wait.
 * It is marked ready by its comment once `prepare` succeeded; one left unmarked (its file failed or
 * was killed) is made again. The run's teardown drops it.
 */
const serverPrepared = onceByKey(async (prepare, schema, runWideId) => {
  const name = `${sharedDatabasePrefix()}${runWideId}`;
  const ready = 'prepared';
  return (await adminDatabase()).pool.connect(async (admin) => {
    await admin.query(sql.unsafe`SELECT pg_advisory_lock(hashtext(${name}))`);
    try {
      const comment = await admin.maybeOne(sql.unsafe`
        SELECT shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE datname = ${name}`);
      if (comment?.comment === ready) return name;
      const database = sql.identifier([name]);
      if (comment) await admin.query(sql.unsafe`DROP DATABASE ${database} WITH (FORCE)`);
      await admin.query(sql.unsafe`CREATE DATABASE ${database}`);
      const db = await openServerDatabase(name, schema);
      try {
        await prepare(db);
      } finally {
        await db.close();
      }
      await admin.query(sql.unsafe`COMMENT ON DATABASE ${database} IS ${sql.literalValue(ready)}`);
      return name;
    } finally {
      await admin.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext(${name}))`);
    }
  });
});

afterAll(async () => {
  if (!admin) return;
  const pool = (await admin).pool;
  const failures: unknown[] = [];
  for (const name of created.splice(0)) {
    const drop = sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`;
    await pool.query(drop).catch((e: unknown) => failures.push(e));
  }
  await (await admin).close();
  if (failures.length > 0) throw new AggregateError(failures, 'could not drop every test database');
});

/** The backends, each opening its databases with Canon's objects in `schema` (undefined: the default). */
function backendsIn(schema: string | undefined): Backend[] {
  const label = (name: string) => (schema ? `${name} in schema ${schema}` : name);
  return [
    {
      name: 'pglite',
      label: label('pglite'),
      ...inSchema(schema),
      vector: true,
      open: async () => openPglite(await pgliteEmptyImage(), schema),
      openPrepared: async (key, prepare) => openPglite(await pglitePrepared(key, prepare, schema), schema),
    },
    ...(serverUrl
      ? [
          {
            name: 'postgres' as const,
            label: label('postgres'),
            ...inSchema(schema),
            vector: false,
            open: async () => openServerDatabase(await createServerDatabase(), schema),
            openPrepared: async (key: string, prepare: Prepare) =>
              openServerDatabase(await createServerDatabase(await serverPrepared(key, prepare, schema)), schema),
          },
        ]
      : []),
  ];
}

export const backends: Backend[] = backendsIn(undefined);

/**
 * The same backends with Canon told `schema: registry`: its tables, functions and policies go into the
 * schema registry, beside whatever public holds. The database paths (migrate, plan/apply, tenancy,
 * attacks, import) run on both lists.
 */
export const backendsAndSchemas: Backend[] = [...backends, ...backendsIn('registry')];

/** A server URL the tests may use directly, when TEST_DATABASE_URL is set. */
export const testServerUrl = serverUrl;

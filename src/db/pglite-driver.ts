import type { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { createDriverFactory, type DriverFactory, type DriverTypeParser } from '@slonik/driver';
import pg from 'pg';
import { driverResult, streamOf } from './driver-result.ts';
import { searchPathSql } from './search-path.ts';

/**
 * A slonik driver that runs node-postgres in-process on a PGlite instance (PGlite's own
 * node-postgres adapter), so both backends share slonik, its `sql` tag and pg's value parsing. The
 * notes measured this fastest (no socket). PGlite has one connection: use a pool of size 1.
 */
export function createPgliteDriverFactory(db: PGlite, schema?: string): DriverFactory {
  return createDriverFactory(async ({ driverConfiguration }) => {
    const config = createPgConfig(db);
    const getTypeParser = await typeOverrides(config, driverConfiguration.typeParsers);
    return {
      createPoolClient: async ({ clientEventEmitter }) => {
        const client = new pg.Client({ ...(config as object), types: { getTypeParser } } as pg.ClientConfig);
        client.on('error', (error) => clientEventEmitter.emit('error', error));
        client.on(
          'notice',
          (notice) => notice.message && clientEventEmitter.emit('notice', { message: notice.message }),
        );
        return {
          connect: async () => {
            await client.connect();
            if (schema) await client.query(searchPathSql, [schema]);
          },
          end: async () => {
            await client.end();
          },
          query: async (text, values) => driverResult(await client.query({ text, values: values as unknown[] })),
          stream: (text, values) => streamOf(client.query({ text, values: values as unknown[] })),
        };
      },
    };
  });
}

/** Slonik's type parsers (int8 → number, timestamps …) by oid, as slonik's own pg driver installs them. */
async function typeOverrides(config: unknown, parsers: readonly DriverTypeParser[]) {
  const client = new pg.Client(config as pg.ClientConfig);
  await client.connect();
  const { rows } = await client.query<{ oid: number; typname: string }>(
    'SELECT oid, typname FROM pg_type WHERE typname = ANY($1::text[])',
    [parsers.map((p) => p.name)],
  );
  await client.end();
  const byOid = new Map<number, (value: string) => unknown>();
  for (const parser of parsers) {
    const type = rows.find((r) => r.typname === parser.name);
    if (type) byOid.set(Number(type.oid), (value) => parser.parse(value));
  }
  return (oid: number, format?: string) => byOid.get(oid) ?? pg.types.getTypeParser(oid, format as 'text');
}

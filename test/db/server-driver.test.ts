import { describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/db/errors.ts';
import { openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { backends } from '../support/databases.ts';

describe("Canon's server driver", () => {
  it('refuses an sslmode it does not know in one line, rather than connecting without TLS', async () => {
    const opening = openDatabase(parseDatabaseSpec('postgres://postgres@127.0.0.1:1/test?sslmode=verify-fulll'));
    await expect(opening).rejects.toThrow(DatabaseError);
    await expect(opening).rejects.toThrow(": unsupported sslmode 'verify-fulll': use one of disable, no-verify");
  });

  for (const backend of backends) {
    it(`parses values as slonik does (int8 as bigint, timestamps as numbers), on ${backend.name}`, async () => {
      const db = await backend.open();
      try {
        const row = await db.pool.one(sql.unsafe`SELECT 9007199254740991::int8 AS big, 1.5::numeric AS n,
          '2026-01-02T03:04:05Z'::timestamptz AS at, ARRAY['a', 'b'] AS list`);
        const at = Date.parse('2026-01-02T03:04:05Z');
        expect(row).toEqual({ big: 9007199254740991n, n: 1.5, at, list: ['a', 'b'] });
      } finally {
        await db.close();
      }
    });
  }
});

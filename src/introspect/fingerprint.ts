import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';

/**
 * A cheap summary of the database's contents and shape: rows written to the current database's
 * tables (PostgreSQL's cumulative statistics, flushed by other sessions within seconds) and its
 * tables' columns. When it moves, someone changed the database: `canon dev` reads it again. Reading
 * the rows themselves would cost what a refresh costs; this is one catalog query.
 */
export async function liveFingerprint(db: CommonQueryMethods, schema: string): Promise<string> {
  return db.oneFirst(sql.type(z.object({ fingerprint: z.string() }))`
    SELECT (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables)::text
      || '/' || (SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                 WHERE c.relnamespace = to_regnamespace(${schema}) AND a.attnum > 0 AND NOT a.attisdropped)::text
      AS fingerprint`);
}

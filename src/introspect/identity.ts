import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';

/**
 * Which database a plan was made against: the cluster's system identifier (chosen at initdb, kept
 * by physical copies; PGlite picks one per data folder, and clone() keeps it), the database name
 * and the schema Canon writes to. Hashed: a saved plan carries it, and apply refuses elsewhere.
 */
export async function readDatabaseId(db: CommonQueryMethods, schema: string): Promise<string> {
  const identity = z.object({ system: z.string(), database: z.string() });
  const row = await db.one(sql.type(identity)`
    SELECT system_identifier::text AS system, current_database() AS database
    FROM pg_control_system()`);
  return createHash('sha256').update(`canon database ${row.system} ${row.database} ${schema}`).digest('hex');
}

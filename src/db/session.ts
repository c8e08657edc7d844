import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { SessionLimits } from './errors.ts';
import { sql } from './sql.ts';

/**
 * Bounds every statement that follows on this connection, introspection included: statement and
 * lock timeouts, and the server ends the session if it is left idle inside a transaction for a
 * statement's time (Canon never pauses inside one longer than it takes to send the next statement).
 */
export async function setSessionLimits(db: CommonQueryMethods, limits: SessionLimits): Promise<void> {
  const statement = String(limits.statementTimeoutMs);
  await db.query(sql.unsafe`SELECT set_config('statement_timeout', ${statement}, false),
    set_config('lock_timeout', ${String(limits.lockTimeoutMs)}, false),
    set_config('idle_in_transaction_session_timeout', ${statement}, false)`);
}

const holder = z.object({
  relname: z.string(),
  pid: z.number(),
  application_name: z.string().nullable(),
  usename: z.string().nullable(),
});

/** Who holds an ACCESS EXCLUSIVE lock on a table of Canon's schema (the lock that stops reads), for a message. */
export async function exclusiveLockHolder(db: CommonQueryMethods, schema: string): Promise<string | undefined> {
  const who = await db
    .maybeOne(sql.type(holder)`
    SELECT c.relname, a.pid, a.application_name, a.usename
    FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.granted AND l.mode = 'AccessExclusiveLock' AND l.pid <> pg_backend_pid()
      AND c.relnamespace = to_regnamespace(${schema})
    ORDER BY c.relname LIMIT 1`)
    .catch(() => null);
  if (!who) return undefined;
  return (
    `table ${who.relname} is locked by process ${who.pid} (${who.application_name || 'unknown application'}, ` +
    `user ${who.usename ?? '?'})`
  );
}

/** Whether Canon's schema has `table` (qualified: a table of that name elsewhere in the search_path is not Canon's). */
export async function hasTable(db: CommonQueryMethods, schema: string, table: string): Promise<boolean> {
  return db.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
    SELECT to_regclass(format('%I.%I', ${schema}::text, ${table}::text)) IS NOT NULL AS ok`);
}

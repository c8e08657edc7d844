import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { applyLockKey } from '../compile/compile.ts';
import { sql } from '../db/sql.ts';

export { applyLockKey };

// Defined in errors.ts, which the CLI's error handling loads without this module; re-exported for callers.
import { ApplyLockTimeoutError } from './errors.ts';

export { ApplyLockTimeoutError };

const holder = z.object({
  pid: z.number(),
  application_name: z.string().nullable(),
  usename: z.string().nullable(),
  client_addr: z.string().nullable(),
  xact_start: z.number().nullable(),
});

/**
 * Takes the session's advisory lock, polling until `timeoutMs`; on timeout the error names the
 * session holding it. Polling (rather than a blocking wait under lock_timeout) lets us say who.
 * Session-scoped, not transaction-scoped: apply re-plans under it before it opens its transaction.
 * The lock goes with the session if the process dies; otherwise releaseApplyLock gives it back.
 */
export async function acquireApplyLock(db: CommonQueryMethods, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = await db.oneFirst(sql.type(z.object({ got: z.boolean() }))`
      SELECT pg_try_advisory_lock(${applyLockKey}::bigint) AS got`);
    if (got) return;
    if (Date.now() >= deadline) {
      const who = await db
        .maybeOne(sql.type(holder)`
        SELECT a.pid, a.application_name, a.usename, a.client_addr::text AS client_addr, a.xact_start
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0
          AND l.objid = ${applyLockKey}::bigint::oid AND l.objsubid = 1
        LIMIT 1`)
        .catch(() => null);
      const description = who
        ? `process ${who.pid} (${who.application_name || 'unknown application'}, user ${who.usename ?? '?'}` +
          `${who.client_addr ? ` from ${who.client_addr}` : ''}` +
          `${who.xact_start ? `, since ${new Date(who.xact_start).toISOString()}` : ''})`
        : 'another session';
      throw new ApplyLockTimeoutError(
        `another apply holds the lock: ${description}; gave up after ${timeoutMs} ms (--lock-timeout)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(10, deadline - Date.now()))));
  }
}

export async function releaseApplyLock(db: CommonQueryMethods): Promise<void> {
  await db.query(sql.unsafe`SELECT pg_advisory_unlock(${applyLockKey}::bigint)`);
}

import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { defaultTenancy } from '../../src/policies/model.ts';

class Rollback extends Error {}

/** PostgreSQL's SQLSTATE and message of a failed query, however slonik wrapped it. */
export function databaseErrorOf(e: unknown): { code: string; message: string } | undefined {
  for (let c: any = e; c; c = c.cause ?? c.originalError) {
    if (typeof c.code === 'string' && /^[0-9A-Z]{5}$/.test(c.code)) return { code: c.code, message: String(c.message) };
  }
  return undefined;
}

export const isRlsDenial = (e: unknown) =>
  databaseErrorOf(e)?.code === '42501' || /row-level security|permission denied/.test(String((e as Error).message));

/**
 * Runs `op` as the application role with `tenant` set (or none), inside a transaction that is always
 * rolled back. Refuses to run as a role that bypasses row-level security: that would prove nothing.
 */
export async function asApplication<T>(
  db: Database,
  tenant: string | null,
  before: ReturnType<typeof sql.unsafe> | undefined,
  op: (tx: any) => Promise<T>,
): Promise<T> {
  const appRole = defaultTenancy.appRole;
  let result!: T;
  await db.pool
    .transaction(async (tx) => {
      if (before) await tx.query(before);
      await tx.query(sql.unsafe`SELECT set_config('role', ${appRole}, true)`);
      if (tenant) await tx.query(sql.unsafe`SELECT set_config(${defaultTenancy.setting}, ${tenant}, true)`);
      const who = await tx.one(sql.type(z.object({ user: z.string(), bypass: z.boolean() }))`
        SELECT current_user AS user,
          (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass`);
      if (who.user !== appRole || who.bypass) throw new Error(`ran as ${who.user} (bypass: ${who.bypass})`);
      result = await op(tx);
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return result;
}

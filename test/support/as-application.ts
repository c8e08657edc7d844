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
 * Makes the rest of the transaction run as the application role, with `tenant` set (null: left as it
 * is), and fails unless the role took and bypasses no row-level security.
 */
async function becomeApplication(tx: any, tenant: string | null): Promise<void> {
  const appRole = defaultTenancy.appRole;
  await tx.query(sql.unsafe`SELECT set_config('role', ${appRole}, true)`);
  if (tenant) await tx.query(sql.unsafe`SELECT set_config(${defaultTenancy.setting}, ${tenant}, true)`);
  const who = await tx.one(sql.type(z.object({ user: z.string(), bypass: z.boolean() }))`
    SELECT current_user AS user,
      (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user) AS bypass`);
  if (who.user !== appRole || who.bypass) throw new Error(`ran as ${who.user} (bypass: ${who.bypass})`);
}

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
  let result!: T;
  await db.pool
    .transaction(async (tx) => {
      if (before) await tx.query(before);
      await becomeApplication(tx, tenant);
      result = await op(tx);
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  return result;
}

export interface Step<T> {
  /** Runs first, as the session's own role (not the application's), in the step's savepoint. */
  before?: ReturnType<typeof sql.unsafe> | undefined;
  op: (tx: any) => Promise<T>;
}

/**
 * Runs each step as `asApplication` would run it on its own, in one transaction: each step in a
 * savepoint rolled back after it (a step that fails leaves the next one a clean transaction). A step
 * with `before` runs it as the session's role, then becomes the application role again and checks it.
 */
export function asApplicationSteps<T>(db: Database, tenant: string | null, steps: Step<T>[]): Promise<T[]> {
  return asApplication(db, tenant, undefined, async (tx) => {
    const results: T[] = [];
    for (const step of steps) {
      await tx.query(sql.unsafe`SAVEPOINT application_step`);
      try {
        if (step.before) {
          await tx.query(sql.unsafe`SET LOCAL ROLE NONE`);
          await tx.query(step.before);
          await becomeApplication(tx, null);
        }
        results.push(await step.op(tx));
      } finally {
        await tx.query(sql.unsafe`ROLLBACK TO SAVEPOINT application_step`);
      }
    }
    return results;
  });
}

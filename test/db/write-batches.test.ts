import { afterEach, describe, expect, it } from 'vitest';
import { compilePlan } from '../../src/compile/compile.ts';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { backends } from '../support/databases.ts';
import { catalog, copyRegistry, plan } from '../support/registry.ts';

// A kind's writes go in batches of bounded size (5,000 assets by default, so that 100k assets do not
// make one statement of hundreds of MB). Here batches of 3 assets, so the example registry's kinds
// span several: every asset and relation entry must arrive, whichever batch its owner falls in.
for (const backend of backends) {
  describe(`writes in batches on ${backend.name}`, () => {
    let db: Database;
    afterEach(async () => db?.close());

    it('applies the example registry in batches of 3 assets, after which the plan is empty', async () => {
      db = await backend.open();
      const dir = copyRegistry();
      const { plan: p, migration } = await plan(db, dir, backend.vector);
      const statements = compilePlan(p, {
        shapes: shapesOf(catalog),
        schema: migration.desired,
        ddl: migration.described,
        canonVersion: 'test',
        statementTimeoutMs: 60_000,
        lockTimeoutMs: 5_000,
        writeBatch: 3,
      });
      const agents = p.changes.filter((c) => c.kind === 'Agent');
      const upserts = statements.filter((s) => s.purpose === 'upsert agents');
      expect(upserts.map((s) => s.rows)).toEqual(
        Array.from({ length: Math.ceil(agents.length / 3) }, (_, i) => Math.min(3, agents.length - 3 * i)),
      );
      expect(upserts.flatMap((s) => s.assets!.map((a) => a.id))).toEqual(agents.map((a) => a.id));
      // Apply's bookkeeping goes in batches of the same size: every written asset once.
      const writes = p.changes.filter((c) => c.action !== 'delete').length;
      for (const purpose of ['record managed rows', 'record versions']) {
        const batches = statements.filter((s) => s.purpose === purpose).map((s) => s.rows);
        expect(batches, purpose).toHaveLength(Math.ceil(writes / 3));
        expect(
          batches.reduce((a, b) => a + b, 0),
          purpose,
        ).toBe(writes);
      }
      await db.pool.transaction(async (tx) => {
        for (const s of statements) await tx.query(s.query);
      });
      const count = (table: string) =>
        db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM ${sql.identifier([table])}`);
      expect(await count('canon_managed_rows')).toBe(writes);
      expect(await count('entity_versions')).toBe(writes);
      const again = await plan(db, dir, backend.vector);
      expect(again.plan.schema).toEqual([]);
      expect(again.plan.changes).toEqual([]);
      expect(again.plan.summary.unchanged).toBe(p.summary.create);
    });
  });
}

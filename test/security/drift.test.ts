import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { desiredSchema } from '../../src/migrate/desired.ts';
import { renderPlanGithub } from '../../src/render/github.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { renderPlanSql } from '../../src/render/plan/sql.ts';
import { renderPlanText } from '../../src/render/plan/text.ts';
import { plainStyle } from '../../src/render/style.ts';
import { backends } from '../support/databases.ts';
import { apply, catalog, copyRegistry, plan } from '../support/registry.ts';

/**
 * Row-level security changed behind Canon's back: each tamper below left the `canon:` comments as
 * they were, so a plan that compared comments only said "No changes". Each must be planned as a
 * repair, flagged as drift in every format, and gone after apply.
 */
const tampers: { name: string; statement: ReturnType<typeof sql.unsafe>; kind: string }[] = [
  {
    name: 'ALTER POLICY … USING (true)',
    statement: sql.unsafe`ALTER POLICY canon_select ON agents USING (true)`,
    kind: 'createPolicy',
  },
  {
    name: 'a foreign permissive policy',
    statement: sql.unsafe`CREATE POLICY leak ON agents FOR SELECT USING (true)`,
    kind: 'dropPolicy',
  },
  {
    name: 'a rewritten helper body',
    statement: sql.unsafe`CREATE OR REPLACE FUNCTION canon_tenant_lineage() RETURNS uuid[] LANGUAGE plpgsql STABLE
      SECURITY DEFINER SET search_path = public, pg_temp AS 'BEGIN RETURN ARRAY(SELECT id FROM public.tenants); END'`,
    kind: 'createFunction',
  },
  {
    name: 'EXECUTE granted to PUBLIC',
    statement: sql.unsafe`GRANT EXECUTE ON FUNCTION canon_owns_asset(uuid) TO PUBLIC`,
    kind: 'createFunction',
  },
  {
    name: 'NO FORCE ROW LEVEL SECURITY',
    statement: sql.unsafe`ALTER TABLE agents NO FORCE ROW LEVEL SECURITY`,
    kind: 'enableRls',
  },
  {
    name: 'a disabled guard trigger',
    statement: sql.unsafe`ALTER TABLE agents DISABLE TRIGGER canon_guard_owner_columns`,
    kind: 'createTrigger',
  },
  {
    name: 'persona_analytics (counts across tenants) granted to the application',
    statement: sql.unsafe`GRANT SELECT ON persona_analytics TO canon_app`,
    kind: 'setPrivileges',
  },
  {
    name: 'privileges granted by hand',
    statement: sql.unsafe`GRANT ALL ON agents TO canon_app`,
    kind: 'setPrivileges',
  },
];

for (const backend of backends) {
  describe(`row-level security drift on ${backend.name}`, () => {
    let db: Database;
    const dir = copyRegistry();
    beforeAll(async () => {
      db = await backend.open();
      expect((await apply(db, dir, backend.vector)).status).toBe('applied');
    });
    afterAll(async () => db?.close());

    it('an applied registry plans no policy change', async () => {
      expect((await plan(db, dir, backend.vector)).plan.schema).toEqual([]);
    });

    for (const tamper of tampers) {
      it(`${tamper.name}: planned as a repair flagged as drift, and gone after apply`, async () => {
        await db.pool.query(tamper.statement);
        const outcome = await plan(db, dir, backend.vector);
        const drifted = outcome.plan;
        const repairs = drifted.schema.filter((c) => 'drift' in c && c.drift);
        expect(repairs.map((c) => c.kind)).toContain(tamper.kind);
        expect(drifted.schema.every((c) => 'policy' in c)).toBe(true);
        const json = JSON.parse(renderPlanJson(drifted));
        expect(
          json.policy_changes.filter((c: { drift: boolean }) => c.drift).map((c: { action: string }) => c.action),
        ).toContain(tamper.kind);
        expect(renderPlanText(drifted, plainStyle)).toContain('drift: changed outside Canon');
        expect(renderPlanMarkdown(drifted)).toMatch(/changed outside Canon \(drift\)/);
        expect(renderPlanSql(outcome.statements)).toMatch(/^-- schema: .*drift: changed outside Canon/m);
        expect(renderPlanGithub(drifted, '', { cwd: dir })).toMatch(
          /^::warning title=Canon plan::\d+ row-level security objects? (was|were) changed outside Canon \(drift\)/m,
        );

        expect((await apply(db, dir, backend.vector)).status).toBe('applied');
        expect((await plan(db, dir, backend.vector)).plan.schema).toEqual([]);
      });
    }

    it("a foreign permissive policy on every one of Canon's tables is planned as a drop, flagged as drift", async () => {
      const tables = desiredSchema(catalog, { embeddings: backend.vector, dimensions: 8 }).tables.map((t) => t.name);
      expect(tables.length).toBeGreaterThan(20);
      for (const table of tables) {
        await db.pool.query(
          sql.unsafe`CREATE POLICY leak ON ${sql.identifier([db.schema, table])} FOR SELECT USING (true)`,
        );
      }
      const planned = (await plan(db, dir, backend.vector)).plan;
      const dropped = planned.schema.filter((c) => c.kind === 'dropPolicy' && c.name === 'leak' && c.drift);
      expect(dropped.map((c) => (c.kind === 'dropPolicy' ? c.table : '')).sort()).toEqual([...tables].sort());
      expect((await apply(db, dir, backend.vector)).status).toBe('applied');
      const left = await db.pool.anyFirst(sql.unsafe`SELECT polname FROM pg_policy WHERE polname = 'leak'`);
      expect(left).toEqual([]);
    });

    it("an older Canon's helper that no spec wants (SECURITY DEFINER, callable by PUBLIC) is dropped", async () => {
      // What a database applied by an older Canon holds: canon_asset_tenant answered for any asset.
      const retired = sql.identifier([db.schema, 'canon_asset_tenant']);
      const mine = sql.identifier([db.schema, 'app_asset_tenant']);
      for (const arg of [sql.fragment`uuid`, sql.fragment`text`]) {
        await db.pool.query(sql.unsafe`CREATE FUNCTION ${retired}(a ${arg}) RETURNS uuid LANGUAGE sql STABLE
          SECURITY DEFINER SET search_path FROM CURRENT AS 'SELECT NULL::uuid'`);
        await db.pool.query(sql.unsafe`COMMENT ON FUNCTION ${retired}(${arg}) IS 'canon:0123456789abcdef'`);
      }
      await db.pool.query(sql.unsafe`CREATE FUNCTION ${mine}(a uuid) RETURNS uuid LANGUAGE sql AS 'SELECT a'`);
      await db.pool.query(sql.unsafe`COMMENT ON FUNCTION ${mine}(uuid) IS 'the application''s own'`);
      const planned = (await plan(db, dir, backend.vector)).plan;
      expect(planned.schema.map((c) => [c.kind, 'name' in c ? c.name : undefined])).toEqual([
        ['dropFunction', 'canon_asset_tenant'],
      ]);
      expect(renderPlanText(planned, plainStyle)).toContain(
        "drop function canon_asset_tenant (Canon's, no longer used)",
      );
      expect((await apply(db, dir, backend.vector)).status).toBe('applied');
      const left =
        await db.pool.anyFirst(sql.unsafe`SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid)
        || ')' FROM pg_proc p WHERE p.pronamespace = ${db.schema}::regnamespace
        AND p.proname IN ('canon_asset_tenant', 'app_asset_tenant') ORDER BY 1`);
      expect(left).toEqual(['app_asset_tenant(a uuid)']);
      expect((await plan(db, dir, backend.vector)).plan.schema).toEqual([]);
    });
  });
}

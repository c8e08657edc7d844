import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { KindModel } from '../../src/kinds/model.ts';
import { desiredSchema } from '../../src/migrate/desired.ts';
import { desiredRls } from '../../src/policies/desired.ts';
import { functionsOf, rlsNames } from '../../src/policies/diff.ts';
import { defaultTenancy } from '../../src/policies/model.ts';
import { asApplication, databaseErrorOf } from '../support/as-application.ts';
import { backendsAndSchemas } from '../support/databases.ts';
import { apply, catalog } from '../support/registry.ts';
import { tenantUuid, uuidOf, writeTenancyRegistry } from '../support/tenancy-fixture.ts';

/**
 * The attacker suite: everything here runs as the application role, as tenant a, and tries to read
 * or write what a may not, or to learn whether something it may not see exists. Generated from the
 * schemas like the isolation matrix, so a new kind is attacked without new tests.
 */
const appRole = defaultTenancy.appRole;
const schemaOptions = { embeddings: false, dimensions: 3 };
const schema = desiredSchema(catalog, schemaOptions);
const rls = desiredRls(catalog, schema, defaultTenancy);
const assetKinds = [...catalog.kinds.values()].filter((k) => k.tenancy === 'tenant');
const sharing = assetKinds.flatMap((k) => k.relations).find((r) => r.polymorphic)!;
const sharedWithColumn = sharing.references.find((r) => sharing.key.includes(r.property))!.column;
const tenantsTable = catalog.kinds.get(catalog.tenantKind!.kind)!.table;
const a = () => tenantUuid(catalog, 'a');
const id = (name: string) => sql.identifier([name]);
const tenantColumn = (m: KindModel) => m.references.find((r) => r.property === 'tenant')!.column;
const columnOf = (m: KindModel, property: string) => m.columns.find((c) => c.property === property)!.column;

type Outcome = { ok: true; rows: number } | { ok: false; code: string; message: string };

/** Runs one statement as tenant a and reports what an attacker would observe. */
async function observe(
  db: Database,
  statement: ReturnType<typeof sql.unsafe>,
  setup?: ReturnType<typeof sql.unsafe>[],
) {
  return asApplication<Outcome>(db, a(), undefined, async (tx) => {
    for (const s of setup ?? []) await tx.query(s);
    try {
      const result = await tx.query(statement);
      return { ok: true, rows: result.rowCount };
    } catch (e) {
      const error = databaseErrorOf(e);
      if (!error) throw e;
      return { ok: false, ...error };
    }
  });
}

for (const backend of backendsAndSchemas) {
  describe(`attacks as the application role on ${backend.label}`, () => {
    let db: Database;
    let schemaName: string;
    const q = (table: string) => sql.identifier([schemaName, table]);
    beforeAll(async () => {
      db = await backend.open();
      expect((await apply(db, writeTenancyRegistry(catalog), false)).status).toBe('applied');
      schemaName = db.schema;
    });
    afterAll(async () => db?.close());

    describe('helper functions', () => {
      const functions = () => functionsOf(rls, rlsNames(catalog, schemaName));

      it('pin search_path to Canon schema with pg_temp last, and none is executable by PUBLIC', async () => {
        const rows = await db.pool.any(sql.type(
          z.object({
            name: z.string(),
            config: z.array(z.string()).nullable(),
            definer: z.boolean(),
            public: z.boolean(),
            app: z.boolean(),
          }),
        )`
          SELECT p.proname AS name, p.proconfig::text[] AS config, p.prosecdef AS definer,
            EXISTS (SELECT 1 FROM aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) x
                    WHERE x.grantee = 0 AND x.privilege_type = 'EXECUTE') AS public,
            has_function_privilege(${appRole}, p.oid, 'EXECUTE') AS app
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
          WHERE n.nspname = ${db.schema} AND p.proname LIKE 'canon\\_%'`);
        const wanted = functions();
        expect(rows.map((r) => r.name).sort()).toEqual(wanted.map((f) => f.name).sort());
        expect(rows.some((r) => r.definer)).toBe(true);
        for (const r of rows) {
          expect(r.config, r.name).toEqual([`search_path=${schemaName}, pg_temp`]);
          expect(r.public, r.name).toBe(false);
          expect(r.app, r.name).toBe(wanted.find((f) => f.name === r.name)!.calledByPolicies);
        }
      });

      it('cannot be called by a role that is not the application role', async () => {
        const stranger = `canon_stranger_${randomUUID().slice(0, 8)}`;
        await db.pool.query(sql.unsafe`CREATE ROLE ${id(stranger)} NOLOGIN`);
        // With USAGE on the schema, as PostgREST's roles have it: only the functions' ACLs refuse it.
        await db.pool.query(sql.unsafe`GRANT USAGE ON SCHEMA ${id(schemaName)} TO ${id(stranger)}`);
        try {
          for (const fn of functions().filter((f) => f.args.length <= 1)) {
            const args = fn.args.length
              ? sql.fragment`${fn.args[0] === 'uuid' ? randomUUID() : 'can_view'}`
              : sql.fragment``;
            const outcome = await db.pool
              .transaction(async (tx) => {
                await tx.query(sql.unsafe`SELECT set_config('role', ${stranger}, true)`);
                await tx.query(sql.unsafe`SELECT ${q(fn.name)}(${args})`);
                return 'called';
              })
              .catch((e) => databaseErrorOf(e)?.code);
            // 42501 when refused; a trigger function cannot be called directly at all (0A000).
            expect(outcome, fn.name).toMatch(/^(42501|0A000)$/);
          }
        } finally {
          await db.pool.query(sql.unsafe`REVOKE USAGE ON SCHEMA ${id(schemaName)} FROM ${id(stranger)}`);
          await db.pool.query(sql.unsafe`DROP ROLE ${id(stranger)}`);
        }
      });

      it("answer only about the current tenant: another tenant's private asset looks like no asset at all", async () => {
        for (const model of assetKinds) {
          const ask = (uuid: string) =>
            asApplication(db, a(), undefined, (tx) =>
              tx.oneFirst(sql.unsafe`SELECT ${q('canon_owns_asset')}(${uuid})`),
            );
          expect(await ask(uuidOf(model, 'otherPrivate')), model.table).toBe(false);
          expect(await ask(randomUUID()), model.table).toBe(false);
          expect(await ask(uuidOf(model, 'own')), model.table).toBe(true);
        }
      });
    });

    describe('pg_temp shadowing', () => {
      it.each(assetKinds.map((m) => [m.table, m] as const))(
        "a temp table named %s cannot forge ownership to share another tenant's private asset",
        async (_table, model) => {
          const victim = uuidOf(model, 'otherPrivate');
          const forged = [
            sql.unsafe`CREATE TEMP TABLE ${id(model.table)} (id uuid, ${id(tenantColumn(model))} uuid)`,
            sql.unsafe`INSERT INTO pg_temp.${id(model.table)} VALUES (${victim}, ${a()})`,
          ];
          const share = sql.unsafe`INSERT INTO ${q(sharing.table)} (${id(sharing.ownerColumn)}, ${id(sharedWithColumn)}, can_view, can_edit, can_delete)
            VALUES (${victim}, ${a()}, true, true, true)`;
          const outcome = await observe(db, share, forged);
          expect(outcome).toMatchObject({ ok: false, code: '42501' });
        },
      );

      it("a temp sharing table cannot forge a share of another tenant's private assets", async () => {
        const forged = [
          sql.unsafe`CREATE TEMP TABLE ${id(sharing.table)} (LIKE ${q(sharing.table)} INCLUDING DEFAULTS)`,
          sql.unsafe`INSERT INTO pg_temp.${id(sharing.table)} (${id(sharing.ownerColumn)}, ${id(sharedWithColumn)},
            can_view, can_edit, can_delete)
            SELECT v, ${a()}::uuid, true, true, true FROM unnest(${sql.array(
              assetKinds.map((m) => uuidOf(m, 'otherPrivate')),
              'uuid',
            )}) v`,
        ];
        for (const model of assetKinds) {
          const victim = uuidOf(model, 'otherPrivate');
          const read = sql.unsafe`SELECT 1 FROM ${q(model.table)} WHERE id = ${victim}`;
          expect(await observe(db, read, forged), model.table).toEqual({ ok: true, rows: 0 });
          const edit = sql.unsafe`UPDATE ${q(model.table)} SET ${id(columnOf(model, 'name'))} = 'taken over' WHERE id = ${victim}`;
          expect(await observe(db, edit, forged), model.table).toEqual({ ok: true, rows: 0 });
        }
      });

      it('a temp tenants table cannot widen the tenant lineage', async () => {
        const b = tenantUuid(catalog, 'b');
        const forged = [
          sql.unsafe`CREATE TEMP TABLE ${id(tenantsTable)} (id uuid, ${id(catalog.tenantKind!.parent!.column)} uuid)`,
          sql.unsafe`INSERT INTO pg_temp.${id(tenantsTable)} VALUES (${a()}, ${b}), (${b}, NULL)`,
        ];
        for (const model of assetKinds) {
          const read = sql.unsafe`SELECT 1 FROM ${q(model.table)} WHERE id = ${uuidOf(model, 'otherPrivate')}`;
          expect(await observe(db, read, forged), model.table).toEqual({ ok: true, rows: 0 });
        }
      });
    });

    describe("Canon's schema", () => {
      it('the application role cannot create a table or a function in it', async () => {
        const table = sql.unsafe`CREATE TABLE ${q('canon_forged')} (id uuid)`;
        expect(await observe(db, table)).toMatchObject({ ok: false, code: '42501' });
        const fn = sql.unsafe`CREATE FUNCTION ${q('canon_forged')}() RETURNS uuid LANGUAGE sql AS 'SELECT NULL::uuid'`;
        expect(await observe(db, fn)).toMatchObject({ ok: false, code: '42501' });
      });

      it('a schema the tenant can write, first in its search_path, cannot shadow the helpers or the tables', async () => {
        // As public was on PostgreSQL before 15: a schema where every role may create objects.
        const scratch = `tenant_scratch_${randomUUID().slice(0, 8)}`;
        await db.pool.query(sql.unsafe`CREATE SCHEMA ${id(scratch)}`);
        await db.pool.query(sql.unsafe`GRANT USAGE, CREATE ON SCHEMA ${id(scratch)} TO ${id(appRole)}`);
        try {
          const b = tenantUuid(catalog, 'b');
          const at = (name: string) => sql.identifier([scratch, name]);
          const forged = [
            sql.unsafe`CREATE FUNCTION ${at('canon_current_tenant')}() RETURNS uuid LANGUAGE sql AS ${sql.literalValue(`SELECT '${b}'::uuid`)}`,
            sql.unsafe`CREATE FUNCTION ${at('canon_tenant_lineage')}() RETURNS uuid[] LANGUAGE sql AS ${sql.literalValue(`SELECT ARRAY['${b}'::uuid]`)}`,
            sql.unsafe`CREATE TABLE ${at(tenantsTable)} (id uuid, ${id(catalog.tenantKind!.parent!.column)} uuid)`,
            sql.unsafe`INSERT INTO ${at(tenantsTable)} VALUES (${a()}, ${b}), (${b}, NULL)`,
            sql.unsafe`SELECT set_config('search_path', ${`${scratch}, ${schemaName}`}, true)`,
          ];
          for (const model of assetKinds) {
            const read = sql.unsafe`SELECT 1 FROM ${q(model.table)} WHERE id = ${uuidOf(model, 'otherPrivate')}`;
            expect(await observe(db, read, forged), model.table).toEqual({ ok: true, rows: 0 });
            const own = sql.unsafe`SELECT 1 FROM ${q(model.table)} WHERE id = ${uuidOf(model, 'own')}`;
            expect(await observe(db, own, forged), model.table).toEqual({ ok: true, rows: 1 });
          }
        } finally {
          await db.pool.query(sql.unsafe`DROP SCHEMA ${id(scratch)} CASCADE`);
        }
      });
    });

    describe('existence oracles', () => {
      it.each(rls.privileges.filter((p) => p.insert.length > 0).map((p) => [p.table]))(
        '%s: the application cannot choose an id, so a taken id and a free one fail alike',
        async (table) => {
          expect(rls.privileges.find((p) => p.table === table)!.insert).not.toContain('id');
          const mayChoose = await db.pool.oneFirst(sql.unsafe`
            SELECT has_column_privilege(${appRole}, ${`${schemaName}.${table}`}::regclass, 'id', 'INSERT')`);
          expect(mayChoose).toBe(false);
          const model = assetKinds.find((m) => m.table === table);
          if (!model) return;
          // A whole row a could otherwise insert: a free id would succeed and a taken one say "duplicate key".
          const { columns, values } = ownRow(model, `${model.kind.toLowerCase()}-id-probe`);
          const insert = (uuid: string) => insertRow(q(model.table), ['id', ...columns], [uuid, ...values]);
          const taken = uuidOf(model, 'otherPrivate');
          const [onTaken, onFree] = [await observe(db, insert(taken)), await observe(db, insert(randomUUID()))];
          expect(onTaken).toMatchObject({ ok: false, code: '42501' });
          expect(onFree).toEqual(onTaken);
          const withoutId = insertRow(q(model.table), columns, values);
          expect(await observe(db, withoutId), 'the same row without an id is accepted').toEqual({ ok: true, rows: 1 });
        },
      );

      it.each(assetKinds.map((m) => [m.table, m] as const))(
        '%s: an asset id taken by another tenant is free for mine (ids are unique per tenant)',
        async (_table, model) => {
          const { columns, values } = ownRow(model, `${model.kind.toLowerCase()}-b-private`);
          expect(await observe(db, insertRow(q(model.table), columns, values))).toEqual({ ok: true, rows: 1 });
        },
      );

      it('sharing with a tenant a cannot see fails the same whether that tenant exists or not', async () => {
        const own = uuidOf(assetKinds[0]!, 'own');
        const share = (tenant: string) =>
          sql.unsafe`INSERT INTO ${q(sharing.table)} (${id(sharing.ownerColumn)}, ${id(sharedWithColumn)}) VALUES (${own}, ${tenant})`;
        const existing = await observe(db, share(tenantUuid(catalog, 'b')));
        const missing = await observe(db, share(randomUUID()));
        expect(existing).toMatchObject({ ok: false, code: '42501' });
        expect(missing).toEqual(existing);
        // A tenant it can see (its parent) is fine.
        expect(await observe(db, share(tenantUuid(catalog, 'p')))).toEqual({ ok: true, rows: 1 });
      });
    });

    describe('privilege-widening updates', () => {
      const guarded = rls.guards.map((g) => [g.table, g] as const);
      it.each(guarded)(
        '%s: edit rights on a shared asset cover content, not visibility or lifecycle',
        async (table, guard) => {
          const model = assetKinds.find((m) => m.table === table)!;
          const row = sql.fragment`id = ${uuidOf(model, 'sharedEdit')}`;
          const set = (assignment: ReturnType<typeof sql.fragment>) =>
            sql.unsafe`UPDATE ${q(table)} SET ${assignment} WHERE ${row}`;
          const name = id(columnOf(model, 'name'));
          expect(await observe(db, set(sql.fragment`${name} = 'edited by a'`))).toEqual({ ok: true, rows: 1 });
          for (const column of guard.ownerOnly) {
            const change =
              column === guard.tenantColumn
                ? sql.fragment`${id(column)} = ${a()}`
                : column === 'version'
                  ? sql.fragment`version = version + 1`
                  : sql.fragment`${id(column)} = NOT ${id(column)}`;
            expect(await observe(db, set(change)), column).toMatchObject({ ok: false, code: '42501' });
          }
          // Shared can_edit without can_delete: no soft delete either.
          expect(await observe(db, set(sql.fragment`deleted_at = now()`))).toMatchObject({ ok: false, code: '42501' });
          // The owner may do all of it.
          const own = sql.unsafe`UPDATE ${q(table)} SET is_public = true, deleted_at = now(), version = version + 1
          WHERE id = ${uuidOf(model, 'own')}`;
          expect(await observe(db, own)).toEqual({ ok: true, rows: 1 });
        },
      );

      it.each(assetKinds.map((m) => [m.table]))(
        "%s: no hard delete, so no ON DELETE action writes another tenant's rows",
        async (table) => {
          const model = assetKinds.find((m) => m.table === table)!;
          const outcome = await observe(db, sql.unsafe`DELETE FROM ${q(table)} WHERE id = ${uuidOf(model, 'own')}`);
          expect(outcome).toMatchObject({ ok: false, code: '42501' });
        },
      );
    });
  });
}

/** `INSERT INTO table (columns) VALUES (values)`, the values as parameters. */
const insertRow = (table: ReturnType<typeof sql.identifier>, columns: string[], values: unknown[]) =>
  sql.unsafe`INSERT INTO ${table} (${sql.join(columns.map(id), sql.fragment`, `)})
    VALUES (${sql.join(
      values.map((v) => sql.fragment`${v as string}`),
      sql.fragment`, `,
    )})`;

/** The columns and values of a row of tenant a's that the application may insert. */
function ownRow(model: KindModel, uniqueId: string) {
  const required = model.columns.filter((c) => c.required && c.property !== 'id' && c.property !== 'name');
  const columns = [
    columnOf(model, 'id'),
    columnOf(model, 'name'),
    tenantColumn(model),
    ...required.map((c) => c.column),
  ];
  const values = [uniqueId, 'Probe', a(), ...required.map((c) => sampleFor(c))];
  return { columns, values };
}

function sampleFor(c: KindModel['columns'][number]): unknown {
  if (c.enum?.length) return c.enum[0];
  return (
    ({ varchar: 'x', text: 'x', integer: 1, bigint: 1, numeric: 0, boolean: true } as Record<string, unknown>)[
      c.type.name
    ] ?? 'x'
  );
}

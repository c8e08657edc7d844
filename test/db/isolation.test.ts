import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { KindModel, RelationModel } from '../../src/kinds/model.ts';
import { desiredSchema } from '../../src/migrate/desired.ts';
import { desiredRls } from '../../src/policies/desired.ts';
import { defaultTenancy } from '../../src/policies/model.ts';
import { assetUuid } from '../../src/resolve/uuid.ts';
import { asApplicationSteps, isRlsDenial, type Step } from '../support/as-application.ts';
import { backendsAndSchemas } from '../support/databases.ts';
import { apply, catalog } from '../support/registry.ts';
import {
  extraId,
  type Situation,
  sampleValue,
  situations,
  tenantUuid,
  uuidOf,
  writeTenancyRegistry,
} from '../support/tenancy-fixture.ts';

type Op = 'select' | 'insert' | 'update' | 'delete';
type Viewer = Situation | 'noTenantPublic' | 'noTenantOwn';
const ops: Op[] = ['select', 'insert', 'update', 'delete'];
const viewers: Viewer[] = [...(Object.keys(situations) as Situation[]), 'noTenantPublic', 'noTenantOwn'];
const appRole = defaultTenancy.appRole;
const schemaOptions = { embeddings: false, dimensions: 3 };
const schema = desiredSchema(catalog, schemaOptions);
const rls = desiredRls(catalog, schema, defaultTenancy);

/** What the viewer looks at: the situation's asset, seen by tenant a, or by nobody. */
const targetOf = (v: Viewer): Situation => (v === 'noTenantPublic' ? 'public' : v === 'noTenantOwn' ? 'own' : v);
const hasTenant = (v: Viewer) => !v.startsWith('noTenant');
const visibleToA: Situation[] = ['own', 'public', 'published', 'sharedView', 'sharedEdit', 'parent'];
const editableByA: Situation[] = ['own', 'sharedEdit'];

interface Cell {
  sql: ReturnType<typeof sql.unsafe>;
  before?: ReturnType<typeof sql.unsafe>;
}
interface TableCase {
  table: string;
  category: string;
  expected(v: Viewer, op: Op): boolean;
  /** The rows the operation is about (WHERE clause), for the situation. */
  where(s: Situation): ReturnType<typeof sql.fragment>;
  insert(s: Situation): Cell;
  updateColumn: string;
}

const id = (name: string) => sql.identifier([name]);
const value = (v: unknown) =>
  v === null
    ? null
    : typeof v === 'object'
      ? Array.isArray(v)
        ? sql.array(v as string[], 'text')
        : sql.jsonb(v as never)
      : (v as string | number | boolean);
const insertRow = (table: string, row: Record<string, unknown>) =>
  sql.unsafe`INSERT INTO ${id(table)} (${sql.join(Object.keys(row).map(id), sql.fragment`, `)}) VALUES (${sql.join(Object.values(row).map(value), sql.fragment`, `)})`;
const updatable = (table: string) => rls.privileges.find((p) => p.table === table)?.update[0] ?? 'id';
const a = () => tenantUuid(catalog, 'a');
const ownerUuid = (s: Situation) => (situations[s].owner ? tenantUuid(catalog, situations[s].owner!) : null);

const columnOf = (model: KindModel, property: string) => model.columns.find((c) => c.property === property)!.column;

function requiredRow(
  columns: { column: string; required: boolean; type: never; enum?: string[] }[],
): Record<string, unknown> {
  return Object.fromEntries(columns.filter((c) => c.required).map((c) => [c.column, sampleValue(c.type, c.enum)]));
}

function relationRow(relation: RelationModel, owner: string): Record<string, unknown> {
  const row: Record<string, unknown> = { [relation.ownerColumn]: owner };
  for (const ref of relation.references) {
    if (!relation.key.includes(ref.property) && !ref.required) continue;
    const target = catalog.kinds.get(ref.target)!;
    row[ref.column] = assetUuid(target.kind, null, extraId(target));
  }
  // Fresh key values, so the new entry never collides with the fixture's own.
  for (const c of relation.columns) {
    if (!relation.key.includes(c.property) && !c.required) continue;
    row[c.column] =
      relation.key.includes(c.property) && !c.enum
        ? (({ varchar: 'matrix-new', text: 'matrix-new', integer: 99 } as Record<string, unknown>)[c.type.name] ??
          sampleValue(c.type))
        : sampleValue(c.type, c.enum);
  }
  return row;
}

/** Every table Canon creates, with what tenant a may do there in each situation. */
function tableCases(): TableCase[] {
  const cases: TableCase[] = [];
  const coreSelect = (v: Viewer) =>
    hasTenant(v) ? visibleToA.includes(targetOf(v)) : targetOf(v) === 'public' || targetOf(v) === 'published';
  for (const model of catalog.kinds.values()) {
    if (model.tenancy === 'global') {
      const isTenants = model.kind === catalog.tenantKind?.kind;
      cases.push({
        table: model.table,
        category: isTenants ? 'tenants' : 'reference',
        expected: (v, op) =>
          op === 'select' && (isTenants ? hasTenant(v) && ['own', 'parent'].includes(targetOf(v)) : true),
        // The platform has no tenant row: the "public" situation has nothing to find here.
        where: (s) =>
          isTenants
            ? ownerUuid(s)
              ? sql.fragment`id = ${ownerUuid(s)}`
              : sql.fragment`false`
            : sql.fragment`unique_id = ${`${model.kind.toLowerCase()}-one`}`,
        insert: () => ({
          sql: insertRow(model.table, {
            ...requiredRow(model.columns as never),
            [columnOf(model, 'id')]: 'matrix-new',
            [columnOf(model, 'name')]: 'New',
          }),
        }),
        updateColumn: 'name',
      });
      continue;
    }
    cases.push({
      table: model.table,
      category: 'asset',
      // No hard delete of assets for applications: they soft-delete (see desiredRls).
      expected: (v, op) =>
        op === 'select'
          ? coreSelect(v)
          : hasTenant(v) &&
            (op === 'insert' ? targetOf(v) === 'own' : op === 'update' && editableByA.includes(targetOf(v))),
      where: (s) => sql.fragment`id = ${uuidOf(model, s)}`,
      insert: (s) => ({
        sql: insertRow(model.table, {
          ...requiredRow(model.columns as never),
          [columnOf(model, 'id')]: 'matrix-new',
          [columnOf(model, 'name')]: 'New',
          tenant_id: ownerUuid(s),
        }),
      }),
      updateColumn: updatable(model.table),
    });
    for (const relation of model.relations) {
      if (relation.polymorphic) continue;
      if (relation.audience) {
        const tenantColumn = relation.references.find((r) => r.property === relation.audience)!.column;
        cases.push({
          table: relation.table,
          category: 'override',
          expected: (v) => hasTenant(v) && visibleToA.includes(targetOf(v)),
          where: (s) =>
            sql.fragment`${id(relation.ownerColumn)} = ${uuidOf(model, s)} AND ${id(tenantColumn)} = ${a()}`,
          insert: (s) => ({
            before: sql.unsafe`DELETE FROM ${id(relation.table)} WHERE ${id(relation.ownerColumn)} = ${uuidOf(model, s)} AND ${id(tenantColumn)} = ${a()}`,
            sql: insertRow(relation.table, { [relation.ownerColumn]: uuidOf(model, s), [tenantColumn]: a() }),
          }),
          updateColumn: updatable(relation.table),
        });
        continue;
      }
      cases.push({
        table: relation.table,
        category: 'child',
        expected: (v, op) => (op === 'select' ? coreSelect(v) : hasTenant(v) && editableByA.includes(targetOf(v))),
        where: (s) => sql.fragment`${id(relation.ownerColumn)} = ${uuidOf(model, s)}`,
        insert: (s) => ({ sql: insertRow(relation.table, relationRow(relation, uuidOf(model, s))) }),
        updateColumn: updatable(relation.table),
      });
    }
    if (model.chunks) {
      const { table, owner } = model.chunks;
      cases.push({
        table,
        category: 'child',
        expected: (v, op) => (op === 'select' ? coreSelect(v) : hasTenant(v) && editableByA.includes(targetOf(v))),
        where: (s) => sql.fragment`${id(owner)} = ${uuidOf(model, s)}`,
        insert: (s) => ({
          sql: insertRow(table, { [owner]: uuidOf(model, s), chunk_index: 99, content: 'x', content_hash: 'h' }),
        }),
        updateColumn: updatable(table),
      });
    }
  }
  const sharing = [...catalog.kinds.values()].flatMap((k) => k.relations).find((r) => r.polymorphic)!;
  const firstTenantKind = [...catalog.kinds.values()].find((k) => k.tenancy === 'tenant')!;
  const sharedWith = sharing.references.find((r) => sharing.key.includes(r.property))!.column;
  cases.push({
    table: sharing.table,
    category: 'sharing',
    expected: (v, op) =>
      hasTenant(v) &&
      (op === 'select' ? ['own', 'sharedView', 'sharedEdit'].includes(targetOf(v)) : targetOf(v) === 'own'),
    where: (s) => sql.fragment`${id(sharing.ownerColumn)} = ${uuidOf(firstTenantKind, s)}`,
    // With a tenant a can see (its parent): see 'shares only with tenants the sharer can see'.
    insert: (s) => ({
      sql: insertRow(sharing.table, {
        [sharing.ownerColumn]: uuidOf(firstTenantKind, s),
        [sharedWith]: tenantUuid(catalog, 'p'),
      }),
    }),
    updateColumn: updatable(sharing.table),
  });
  cases.push({
    table: 'entity_versions',
    category: 'versions',
    expected: (v, op) => op === 'select' && coreSelect(v),
    where: (s) => sql.fragment`entity_id = ${uuidOf(firstTenantKind, s)}`,
    insert: (s) => ({
      sql: insertRow('entity_versions', {
        entity_type: 'X',
        entity_id: uuidOf(firstTenantKind, s),
        version: 999,
        data: {},
      }),
    }),
    updateColumn: 'data',
  });
  const bookkeeping: Record<string, { row: Record<string, unknown>; updateColumn: string }> = {
    canon_applies: { row: { plan_hash: 'x', canon_version: 'x' }, updateColumn: 'plan_hash' },
    canon_managed_rows: {
      row: { table_name: 'x', row_id: a(), kind: 'x', asset_id: 'x', content_hash: 'x' },
      updateColumn: 'kind',
    },
    canon_rls_fingerprints: { row: { object: 'policy:agents/leak', fingerprint: 'x' }, updateColumn: 'fingerprint' },
    canon_embedding_jobs: {
      row: { chunk_table: 'x', chunk_id: a(), content_hash: 'x', model: 'x', dimensions: 8, state: 'queued' },
      updateColumn: 'last_error',
    },
  };
  for (const [table, { row, updateColumn }] of Object.entries(bookkeeping)) {
    cases.push({
      table,
      category: 'bookkeeping',
      expected: () => false,
      where: () => sql.fragment`true`,
      insert: () => ({ sql: insertRow(table, row) }),
      updateColumn,
    });
  }
  return cases;
}

/**
 * Whether the viewer may do each operation (in the order of `ops`): one transaction as the application
 * role, each operation in a savepoint rolled back after it, so every one starts from the same rows.
 */
function attempts(db: Database, c: TableCase, viewer: Viewer): Promise<boolean[]> {
  const s = targetOf(viewer);
  const tenant = hasTenant(viewer) ? a() : null;
  const t = id(c.table);
  const attempt = (op: Op): Step<boolean> => {
    const cell = op === 'insert' ? c.insert(s) : undefined;
    return {
      before: cell?.before,
      op: async (tx) => {
        try {
          if (op === 'select')
            return (await tx.oneFirst(sql.unsafe`SELECT count(*)::int FROM ${t} WHERE ${c.where(s)}`)) > 0;
          if (op === 'insert') {
            await tx.query(cell!.sql);
            return true;
          }
          const column = id(c.updateColumn);
          const done =
            op === 'update'
              ? await tx.query(sql.unsafe`UPDATE ${t} SET ${column} = ${column} WHERE ${c.where(s)}`)
              : await tx.query(sql.unsafe`DELETE FROM ${t} WHERE ${c.where(s)}`);
          return done.rowCount > 0;
        } catch (e) {
          if (isRlsDenial(e)) return false;
          throw e;
        }
      },
    };
  };
  return asApplicationSteps(db, tenant, ops.map(attempt));
}

for (const backend of backendsAndSchemas) {
  describe(`tenant isolation on ${backend.label}`, () => {
    let db: Database;
    const cases = tableCases();
    beforeAll(async () => {
      db = await backend.open();
      const result = await apply(db, writeTenancyRegistry(catalog), false);
      expect(result.status).toBe('applied');
      // Chunks for every knowledge source, written by Canon (the embedding worker's job, later).
      for (const model of catalog.kinds.values()) {
        if (!model.chunks) continue;
        for (const s of Object.keys(situations) as Situation[]) {
          await db.pool.query(
            insertRow(model.chunks.table, {
              [model.chunks.owner]: uuidOf(model, s),
              chunk_index: 0,
              content: `chunk of ${s}`,
              content_hash: s,
            }),
          );
        }
      }
    });
    afterAll(async () => db?.close());

    it('covers every table Canon creates', () => {
      expect(cases.map((c) => c.table).sort()).toEqual(schema.tables.map((t) => t.name).sort());
    });

    it('the application role is neither the owner nor bypasses RLS, and every table forces RLS', async () => {
      const role = await db.pool.one(
        sql.type(
          z.object({ rolsuper: z.boolean(), rolbypassrls: z.boolean() }),
        )`SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = ${appRole}`,
      );
      expect(role).toEqual({ rolsuper: false, rolbypassrls: false });
      const tables = await db.pool.any(sql.type(
        z.object({ relname: z.string(), owner: z.string(), rls: z.boolean(), forced: z.boolean() }),
      )`
        SELECT c.relname, pg_get_userbyid(c.relowner) AS owner, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ${db.schema} AND c.relkind = 'r'`);
      for (const t of tables) expect(t, t.relname).toMatchObject({ rls: true, forced: true });
      expect(tables.map((t) => t.owner)).not.toContain(appRole);
      const analytics = await db.pool.oneFirst(
        sql.unsafe`SELECT has_table_privilege(${appRole}, 'persona_analytics', 'SELECT')`,
      );
      expect(analytics).toBe(false);
    });

    it('indexes every column a policy filters on', async () => {
      const wanted = new Set<string>();
      const walk = (table: string, c: any) => {
        if (!c) return;
        if (c.kind === 'or' || c.kind === 'and') c.items.forEach((i: unknown) => walk(table, i));
        else if (['isCurrentTenant', 'inTenantLineage', 'assetOwnedByMe'].includes(c.kind))
          wanted.add(`${table}.${c.column}`);
        else if (c.kind === 'parentRow') {
          wanted.add(`${table}.${c.column}`);
          walk(c.table, c.where);
        } else if (c.kind === 'anyRow') wanted.add(`${table}.${c.column}`);
      };
      for (const p of rls.policies) {
        walk(p.table, p.using);
        walk(p.table, p.withCheck);
      }
      const leading = new Set(
        await db.pool.anyFirst(sql.type(z.object({ c: z.string() }))`
        SELECT t.relname || '.' || a.attname AS c FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0]
        WHERE n.nspname = ${db.schema}`),
      );
      expect([...wanted].filter((c) => !leading.has(c) && !c.endsWith('.id'))).toEqual([]);
      expect(wanted.size).toBeGreaterThan(40);
    });

    for (const c of cases) {
      it(`${c.table} (${c.category})`, async () => {
        const actual: string[] = [];
        const expected: string[] = [];
        for (const viewer of viewers) {
          const allowed = await attempts(db, c, viewer);
          ops.forEach((op, i) => {
            actual.push(`${viewer} ${op}: ${allowed[i] ? 'allowed' : 'denied'}`);
            expected.push(`${viewer} ${op}: ${c.expected(viewer, op) ? 'allowed' : 'denied'}`);
          });
        }
        expect(actual).toEqual(expected);
      });
    }
  });
}

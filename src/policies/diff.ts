import { createHash } from 'node:crypto';
import type { KindCatalog } from '../kinds/model.ts';
import type { SchemaChange } from '../migrate/changes.ts';
import { sqlText } from '../migrate/fragments.ts';
import type { DesiredSchema } from '../migrate/model.ts';
import { drifted } from './fingerprints.ts';
import type { LiveRls } from './live.ts';
import type { Grant, RlsSpec, TablePrivileges } from './model.ts';
import { createPolicyStatement, type RlsNames, rlsFunctions } from './render.ts';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** `canon:<hash of the SQL> grants=own,platform`: the grants let a later plan tell widening from narrowing. */
const policyComment = (sqlHash: string, grants: Grant[]) => `canon:${sqlHash} grants=${[...grants].sort().join(',')}`;
const grantsOf = (comment: string | null): Set<string> | undefined => {
  const m = comment?.match(/ grants=([\w,-]*)$/);
  return m ? new Set(m[1]!.split(',').filter(Boolean)) : undefined;
};

/** The one trigger Canon puts on a table whose rows can be shared for editing. */
export const guardTriggerName = 'canon_guard_owner_columns';

export function rlsNames(catalog: KindCatalog, schema: string): RlsNames {
  const names: RlsNames = { schema, assets: [] };
  for (const model of [...catalog.kinds.values()].sort((a, b) => a.table.localeCompare(b.table))) {
    const tenant = model.references.find((r) => r.property === 'tenant');
    if (model.tenancy === 'tenant' && tenant) names.assets.push({ table: model.table, tenantColumn: tenant.column });
  }
  for (const model of catalog.kinds.values()) {
    const sharing = model.relations.find((r) => r.property === catalog.sharingProperty);
    if (sharing && !names.sharing) {
      const tenantColumn = sharing.references.find((r) => sharing.key.includes(r.property))!.column;
      names.sharing = { table: sharing.table, assetColumn: sharing.ownerColumn, tenantColumn };
    }
  }
  const tenantKind = catalog.tenantKind;
  if (tenantKind?.parent)
    names.tenants = { table: catalog.kinds.get(tenantKind.kind)!.table, parentColumn: tenantKind.parent.column };
  return names;
}

/**
 * Desired RLS vs live → policy changes. Unchanged objects are left alone, never dropped and
 * recreated; objects whose live state differs from what the last apply recorded are repaired and
 * flagged as drift, and policies on Canon's tables that Canon did not create are dropped (permissive
 * policies are OR-ed: a foreign `USING (true)` would open the table).
 */
export function diffRls(
  spec: RlsSpec,
  live: LiveRls,
  catalogNames: RlsNames,
  schema: DesiredSchema,
  liveTables: ReadonlySet<string>,
): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const names: RlsNames = { ...catalogNames, visibility: spec.visibility };
  const { appRole } = spec.tenancy;
  const f = live.fingerprints;
  const flags = (widens: boolean, drift: boolean) => ({
    destructive: false as const,
    policy: true as const,
    widens,
    drift,
  });
  if (!live.role.exists)
    changes.push({ kind: 'createRole', role: appRole, destructive: false, policy: true, widens: false });
  const existing = spec.tables.some((t) => liveTables.has(t));
  if (!live.role.schemaUsage)
    changes.push({ kind: 'grantSchemaUsage', role: appRole, schema: live.schema, ...flags(existing, false) });

  for (const fn of functionsOf(spec, names)) {
    const comment = `canon:${hash(sqlText(fn.statement))}`;
    const current = live.functions.get(fn.name);
    const wantedExecutors = fn.calledByPolicies ? [appRole] : [];
    const extra = (current?.executors ?? []).filter((r) => !wantedExecutors.includes(r));
    const missing = wantedExecutors.filter((r) => !current?.executors.includes(r));
    const drift = drifted(f, `function:${fn.name}`);
    if (current?.comment === comment && extra.length === 0 && missing.length === 0 && !drift) continue;
    changes.push({
      kind: 'createFunction',
      spec: fn,
      names,
      appRole,
      revokeFrom: extra,
      comment,
      ...flags(false, drift && current !== undefined),
    });
  }
  for (const name of live.retiredFunctions)
    changes.push({ kind: 'dropFunction', name, schema: live.schema, ...flags(false, false) });
  for (const table of spec.tables) {
    const drift = drifted(f, `table:${table}`);
    if (!live.forced.has(table) || (drift && liveTables.has(table))) {
      changes.push({ kind: 'enableRls', table, schema: live.schema, ...flags(false, drift && liveTables.has(table)) });
    }
  }

  const wanted = new Set<string>();
  for (const p of spec.policies) {
    const key = `${p.table}/${p.name}`;
    wanted.add(key);
    const comment = policyComment(hash(sqlText(createPolicyStatement(p, names))), p.grants);
    const current = live.policies.get(key);
    const drift = drifted(f, `policy:${key}`);
    if (current?.comment === comment && !drift) continue;
    const before = current ? grantsOf(current.comment) : new Set<string>();
    // A new policy on a table that already exists, or one that grants something the old did not, widens access.
    const widens = liveTables.has(p.table) && (!before || p.grants.some((g) => !before.has(g)));
    changes.push({
      kind: 'createPolicy',
      spec: p,
      names,
      comment,
      replaces: current !== undefined,
      ...flags(widens, drift),
    });
  }
  const canonTables = new Set(schema.tables.map((t) => t.name));
  for (const [key, current] of live.policies) {
    if (wanted.has(key) || !canonTables.has(current.table)) continue;
    // Canon's own policy no longer wanted, or someone else's on Canon's table (drift).
    const foreign = !current.comment?.startsWith('canon:');
    changes.push({
      kind: 'dropPolicy',
      table: current.table,
      name: current.name,
      schema: live.schema,
      ...flags(false, foreign || drifted(f, `policy:${key}`)),
    });
  }

  const wantedTriggers = new Set<string>();
  for (const guard of spec.guards) {
    const key = `${guard.table}/${guardTriggerName}`;
    wantedTriggers.add(key);
    const comment = `canon:${hash(JSON.stringify(guard))}`;
    const current = live.triggers.get(key);
    const drift = drifted(f, `trigger:${key}`);
    if (current?.comment === comment && !drift) continue;
    changes.push({
      kind: 'createTrigger',
      guard,
      names,
      name: guardTriggerName,
      comment,
      replaces: current !== undefined,
      ...flags(false, drift),
    });
  }
  for (const [key, current] of live.triggers) {
    if (wantedTriggers.has(key) || !canonTables.has(current.table) || !current.comment?.startsWith('canon:')) continue;
    changes.push({
      kind: 'dropTrigger',
      table: current.table,
      name: current.name,
      schema: live.schema,
      ...flags(false, false),
    });
  }

  for (const wantedPrivileges of spec.privileges) {
    const table = wantedPrivileges.table;
    const current = live.role.privileges.get(table);
    const drift = liveTables.has(table) && drifted(f, `table:${table}`);
    if (current && samePrivileges(current, wantedPrivileges) && !drift) continue;
    const widens = (!current || wider(wantedPrivileges, current)) && liveTables.has(table);
    changes.push({
      kind: 'setPrivileges',
      role: appRole,
      privileges: wantedPrivileges,
      schema: live.schema,
      ...flags(widens, drift),
    });
  }
  // Relations the application must not read at all: the bookkeeping tables, and the materialized
  // views, which count across tenants where RLS cannot filter. Any privilege it holds there is revoked;
  // Canon never grants one on a view, so one held there was granted by hand (drift).
  const views = new Set(schema.views.map((v) => v.name));
  for (const table of [...spec.tables, ...views]) {
    if (spec.privileges.some((p) => p.table === table)) continue;
    const current = live.role.privileges.get(table);
    const holds =
      current && (current.select || current.insert.length > 0 || current.delete || current.update.length > 0);
    const drift = views.has(table) ? Boolean(holds) : liveTables.has(table) && drifted(f, `table:${table}`);
    if (!holds && !drift) continue;
    const none: TablePrivileges = { table, select: false, insert: [], delete: false, update: [] };
    changes.push({
      kind: 'setPrivileges',
      role: appRole,
      privileges: none,
      schema: live.schema,
      ...flags(false, drift),
    });
  }
  return changes;
}

/** The functions this spec needs, for the diff and for drift detection's scope. */
export const functionsOf = (spec: RlsSpec, names: RlsNames) =>
  rlsFunctions(spec.tenancy, { ...names, visibility: spec.visibility }, spec.guards.length > 0);

const sameColumns = (a: string[], b: string[]) => [...a].sort().join() === [...b].sort().join();
const samePrivileges = (a: TablePrivileges, b: TablePrivileges) =>
  a.select === b.select && a.delete === b.delete && sameColumns(a.insert, b.insert) && sameColumns(a.update, b.update);

const wider = (wanted: TablePrivileges, current: TablePrivileges) =>
  (wanted.select && !current.select) ||
  (wanted.delete && !current.delete) ||
  wanted.insert.some((c) => !current.insert.includes(c)) ||
  wanted.update.some((c) => !current.update.includes(c));

import { createHash } from 'node:crypto';
import type { KindCatalog } from '../kinds/model.ts';
import type { SchemaChange } from '../migrate/changes.ts';
import { sqlText } from '../migrate/fragments.ts';
import type { DesiredSchema } from '../migrate/model.ts';
import type { LiveRls } from './live.ts';
import type { Grant, RlsSpec, TablePrivileges } from './model.ts';
import { assetTenantFunction, assetTenantStatement, assetVisibleFunction, assetVisibleStatement, sharedWithMeFunction, sharedWithMeStatement, createPolicyStatement, currentTenantFunction, currentTenantStatement, lineageFunction, lineageStatement, type RlsNames } from './render.ts';

const hash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

/** `canon:<hash of the SQL> grants=own,platform`: the grants let a later plan tell widening from narrowing. */
const policyComment = (sqlHash: string, grants: Grant[]) => `canon:${sqlHash} grants=${[...grants].sort().join(',')}`;
const grantsOf = (comment: string | null): Set<string> | undefined => {
  const m = comment?.match(/ grants=([\w,-]*)$/);
  return m ? new Set(m[1]!.split(',').filter(Boolean)) : undefined;
};

export function rlsNames(catalog: KindCatalog): RlsNames {
  const names: RlsNames = { assets: [] };
  for (const model of [...catalog.kinds.values()].sort((a, b) => a.table.localeCompare(b.table))) {
    const tenant = model.references.find((r) => r.property === 'tenant');
    if (model.tenancy === 'tenant' && tenant) names.assets.push({ table: model.table, tenantColumn: tenant.column });
  }
  for (const model of catalog.kinds.values()) {
    const sharing = model.relations.find((r) => r.property === catalog.sharingProperty);
    if (sharing && !names.sharing) {
      names.sharing = { table: sharing.table, assetColumn: sharing.ownerColumn, tenantColumn: sharing.references.find((r) => sharing.key.includes(r.property))!.column };
    }
  }
  const tenantKind = catalog.tenantKind;
  if (tenantKind?.parent) names.tenants = { table: catalog.kinds.get(tenantKind.kind)!.table, parentColumn: tenantKind.parent.column };
  return names;
}

/** Desired RLS vs live → policy changes. Unchanged policies are left alone, never dropped and recreated. */
export function diffRls(spec: RlsSpec, live: LiveRls, catalogNames: RlsNames, schema: DesiredSchema, liveTables: ReadonlySet<string>): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const names: RlsNames = { ...catalogNames, visibility: spec.visibility };
  const { appRole } = spec.tenancy;
  if (!live.role.exists) changes.push({ kind: 'createRole', role: appRole, destructive: false, policy: true, widens: false });
  const existing = spec.tables.some((t) => liveTables.has(t));
  if (!live.role.schemaUsage) changes.push({ kind: 'grantSchemaUsage', role: appRole, schema: live.schema, destructive: false, policy: true, widens: existing });

  const functions = [
    { function: 'currentTenant' as const, name: currentTenantFunction, text: sqlText(currentTenantStatement(spec.tenancy)) },
    ...(names.tenants ? [{ function: 'lineage' as const, name: lineageFunction, text: sqlText(lineageStatement(names)) }] : []),
    ...(names.assets.length ? [{ function: 'assetTenant' as const, name: assetTenantFunction, text: sqlText(assetTenantStatement(names)) }] : []),
    ...(names.sharing ? [{ function: 'sharedWithMe' as const, name: sharedWithMeFunction, text: sqlText(sharedWithMeStatement(names)) }] : []),
    { function: 'assetVisible' as const, name: assetVisibleFunction, text: sqlText(assetVisibleStatement(names)) },
  ];
  for (const f of functions) {
    const comment = `canon:${hash(f.text)}`;
    if (live.functions.get(f.name) !== comment) changes.push({ kind: 'createFunction', function: f.function, tenancy: spec.tenancy, names, comment, destructive: false, policy: true, widens: false });
  }
  for (const table of spec.tables) if (!live.forced.has(table)) changes.push({ kind: 'enableRls', table, destructive: false, policy: true, widens: false });

  const wanted = new Set<string>();
  for (const p of spec.policies) {
    const key = `${p.table}/${p.name}`;
    wanted.add(key);
    const comment = policyComment(hash(sqlText(createPolicyStatement(p, names))), p.grants);
    const current = live.policies.get(key);
    if (current?.comment === comment) continue;
    const before = current ? grantsOf(current.comment) : new Set<string>();
    // A new policy on a table that already exists, or one that grants something the old did not, widens access.
    const widens = liveTables.has(p.table) && (!before || p.grants.some((g) => !before.has(g)));
    changes.push({ kind: 'createPolicy', spec: p, names, comment, replaces: current !== undefined, destructive: false, policy: true, widens });
  }
  const canonTables = new Set(schema.tables.map((t) => t.name));
  for (const [key, current] of live.policies) {
    if (!wanted.has(key) && canonTables.has(current.table) && current.comment?.startsWith('canon:')) {
      changes.push({ kind: 'dropPolicy', table: current.table, name: current.name, destructive: false, policy: true, widens: false });
    }
  }
  for (const wantedPrivileges of spec.privileges) {
    const current = live.role.privileges.get(wantedPrivileges.table);
    if (current && samePrivileges(current, wantedPrivileges)) continue;
    const widens = !current || wider(wantedPrivileges, current);
    changes.push({ kind: 'setPrivileges', role: appRole, privileges: wantedPrivileges, destructive: false, policy: true, widens: widens && liveTables.has(wantedPrivileges.table) });
  }
  // Tables the application must not read at all (bookkeeping): any privilege it holds there is revoked.
  for (const table of spec.tables) {
    if (spec.privileges.some((p) => p.table === table)) continue;
    const current = live.role.privileges.get(table);
    if (current && (current.select || current.insert || current.delete || current.update.length > 0)) {
      changes.push({ kind: 'setPrivileges', role: appRole, privileges: { table, select: false, insert: false, delete: false, update: [] }, destructive: false, policy: true, widens: false });
    }
  }
  return changes;
}

const samePrivileges = (a: TablePrivileges, b: TablePrivileges) =>
  a.select === b.select && a.insert === b.insert && a.delete === b.delete && [...a.update].sort().join() === [...b.update].sort().join();

const wider = (wanted: TablePrivileges, current: TablePrivileges) =>
  (wanted.select && !current.select) || (wanted.insert && !current.insert) || (wanted.delete && !current.delete) || wanted.update.some((c) => !current.update.includes(c));

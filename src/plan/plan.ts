import { codes } from '../diagnostics/codes.ts';
import { error, sortDiagnostics, type Diagnostic } from '../diagnostics/diagnostic.ts';
import type { LiveRegistry } from '../introspect/rows.ts';
import { describeSchemaChange, type SchemaChange } from '../migrate/changes.ts';
import type { RegistryGraph } from '../resolve/graph.ts';
import { fieldChanges, type Labeler } from './fields.ts';
import type { AssetChange, DeleteMode, Plan } from './model.ts';
import { dependencyOrder, type KindShape } from './shape.ts';
import { desiredState, stateText, type AssetState } from './state.ts';
import { createHash } from 'node:crypto';

export interface PlanInputs {
  gitCommit: string | null;
  shapes: ReadonlyMap<string, KindShape>;
  graph: RegistryGraph;
  live: LiveRegistry;
  schema: SchemaChange[];
  database: string;
  deleteMode: DeleteMode;
}

const sameState = (a: AssetState, b: AssetState) => stateText(a) === stateText(b);

/** Stage "plan": the registry graph against the live rows → typed changes. Pure: no I/O. */
export function computePlan(input: PlanInputs): Plan {
  const { shapes, graph, live } = input;
  const labels = new Map<string, string>();
  for (const a of live.assets.values()) labels.set(a.state.uuid, a.state.id);
  for (const a of graph.assets) labels.set(a.uuid, a.id);
  const label: Labeler = (uuid) => labels.get(uuid) ?? uuid;
  const order = new Map(dependencyOrder(shapes).map((s, i) => [s.kind, i]));
  const diagnostics: Diagnostic[] = [];
  const changes: AssetChange[] = [];
  const desired = new Map<string, AssetState>();
  let unchanged = 0;

  for (const asset of graph.assets) {
    const shape = shapes.get(asset.kind)!;
    const after = desiredState(shape, asset);
    desired.set(asset.uuid, after);
    const current = live.assets.get(asset.uuid);
    const base = { kind: asset.kind, id: asset.id, tenant: asset.tenant, uuid: asset.uuid, table: shape.table, source: asset.source, after };
    if (!current) {
      const clash = live.unmanaged.find((u) => u.table === shape.table && (u.uuid === asset.uuid || (u.uniqueId === asset.id && u.tenantUuid === ((asset.row.tenant_id as string | undefined) ?? null))));
      if (clash && !(clash.uuid === asset.uuid && asset.explicitUuid)) {
        diagnostics.push(clash.uuid === asset.uuid
          ? error(codes.unmanagedRowExists, asset.source, `${shape.table} already has a row with id ${asset.uuid} that Canon does not manage; set uuid: ${asset.uuid} on this asset to take it over`)
          : error(codes.unmanagedIdTaken, asset.source, `${shape.table} already has a row '${asset.id}'${asset.tenant ? ` of tenant '${asset.tenant}'` : ''} (id ${clash.uuid}) that Canon does not manage; set uuid: ${clash.uuid} on this asset to take it over, or rename it`));
        continue;
      }
      const adopt = clash !== undefined;
      changes.push({ ...base, action: adopt ? 'update' : 'create', fields: fieldChanges(shape, undefined, after, label), version: adopt ? clash.version + 1 : 1, ...(adopt ? { adopt } : {}) });
    } else if (current.deleted) {
      changes.push({ ...base, action: 'update', before: current.state, fields: [{ path: 'deleted_at', before: 'deleted', after: null }, ...fieldChanges(shape, current.state, after, label)], version: current.version + 1, restore: true });
    } else if (!sameState(current.state, after)) {
      changes.push({ ...base, action: 'update', before: current.state, fields: fieldChanges(shape, current.state, after, label), version: current.version + 1 });
    } else unchanged++;
  }
  for (const current of live.assets.values()) {
    if (desired.has(current.state.uuid) || current.deleted) continue;
    const s = current.state;
    changes.push({ action: 'delete', kind: s.kind, id: s.id, tenant: s.tenant, uuid: s.uuid, table: current.table, source: null, fields: [], version: current.version, before: s });
  }
  const rank = (c: AssetChange) => (c.action === 'delete' ? 1_000 - order.get(c.kind)! : order.get(c.kind)!);
  changes.sort((a, b) => rank(a) - rank(b) || (a.tenant ?? '').localeCompare(b.tenant ?? '') || a.id.localeCompare(b.id));

  const summary = {
    create: changes.filter((c) => c.action === 'create').length,
    update: changes.filter((c) => c.action === 'update').length,
    delete: changes.filter((c) => c.action === 'delete').length,
    unchanged,
  };
  const registryHash = hashLines([...desired.values()].map((s) => `${s.uuid} ${s.tenant} ${s.id} ${stateText(s)}`));
  const liveHash = hashLines([
    ...[...live.assets.values()].map((a) => `${a.state.uuid} ${a.version} ${a.deleted} ${a.state.tenant} ${a.state.id} ${stateText(a.state)}`),
    ...live.unmanaged.map((u) => `unmanaged ${JSON.stringify(u)}`),
  ]);
  // Not the git commit: a pull request's reviewed plan is applied on the merge commit, whose id always differs.
  const planHash = hashLines([
    `settings ${input.deleteMode} ${registryHash} ${liveHash}`,
    ...input.schema.map((c, i) => `schema ${String(i).padStart(6, '0')} ${describeSchemaChange(c)}`),
    ...changes.map((c) => `change ${c.action} ${c.uuid} ${c.version} ${c.restore ?? false} ${c.adopt ?? false} ${c.after ? stateText(c.after) : ''}`),
  ]);
  return {
    formatVersion: '1', database: input.database, deleteMode: input.deleteMode, gitCommit: input.gitCommit, schema: input.schema, changes, summary,
    registryHash, liveHash, planHash, diagnostics: sortDiagnostics(diagnostics),
  };
}

function hashLines(lines: string[]): string {
  const hash = createHash('sha256');
  for (const line of lines.sort()) hash.update(line).update('\n');
  return hash.digest('hex');
}

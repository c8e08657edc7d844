import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error, sortDiagnostics } from '../diagnostics/diagnostic.ts';
import type { LiveRegistry } from '../introspect/rows.ts';
import { describeSchemaChange, type SchemaChange } from '../migrate/changes.ts';
import type { RegistryGraph, ResolvedAsset } from '../resolve/graph.ts';
import { computedOnRead, hashSortedLines, StateCache } from './canonical.ts';
import { fieldChanges, type Labeler } from './fields.ts';
import type { AssetChange, DeleteMode, Plan } from './model.ts';
import { dependencyOrder, type KindShape } from './shape.ts';

export interface PlanInputs {
  /** The registry's git commit, or how to ask for it when first read (asking git costs more than planning an edit). */
  gitCommit: string | null | (() => string | null);
  shapes: ReadonlyMap<string, KindShape>;
  graph: RegistryGraph;
  live: LiveRegistry;
  schema: SchemaChange[];
  database: string;
  deleteMode: DeleteMode;
}

/** Stage "plan": the registry graph against the live rows → typed changes. Pure: no I/O. */
export function computePlan(input: PlanInputs, cache: StateCache = new StateCache()): Plan {
  const { shapes, graph, live } = input;
  // The registry's id for a database id, else the live row's: asked only for the assets that changed.
  const label: Labeler = (uuid) => graph.byUuid.get(uuid)?.id ?? live.assets.get(uuid)?.state.id ?? uuid;
  const order = new Map(dependencyOrder(shapes).map((s, i) => [s.kind, i]));
  const diagnostics: Diagnostic[] = [];
  const changes: AssetChange[] = [];
  let unchanged = 0;
  const clashes = unmanagedIndex(live.unmanaged);

  for (const asset of graph.assets) {
    const shape = shapes.get(asset.kind)!;
    const canonical = cache.desiredOf(shape, asset);
    const after = canonical.state;
    const current = live.assets.get(asset.uuid);
    // Equal canonical texts, equal content: the field diff is built only for assets that differ.
    if (current && !current.deleted && cache.sameContent(current.state, canonical)) {
      unchanged++;
      continue;
    }
    const base = {
      kind: asset.kind,
      id: asset.id,
      tenant: asset.tenant,
      uuid: asset.uuid,
      table: shape.table,
      source: asset.source,
      after,
    };
    if (!current) {
      const clash = clashes.find(shape.table, asset);
      if (clash && !(clash.uuid === asset.uuid && asset.explicitUuid)) {
        diagnostics.push(
          clash.uuid === asset.uuid
            ? error(
                codes.unmanagedRowExists,
                asset.source,
                `${shape.table} already has a row with id ${asset.uuid} that Canon does not manage; ` +
                  `set uuid: ${asset.uuid} on this asset to take it over`,
              )
            : error(
                codes.unmanagedIdTaken,
                asset.source,
                `${shape.table} already has a row '${asset.id}'${ofTenant(asset.tenant)} (id ${clash.uuid}) ` +
                  `that Canon does not manage; set uuid: ${clash.uuid} on this asset to take it over, or rename it`,
              ),
        );
        continue;
      }
      const adopt = clash !== undefined;
      const change: AssetChange = {
        ...base,
        action: adopt ? 'update' : 'create',
        fields: [],
        version: adopt ? clash.version + 1 : 1,
        ...(adopt ? { adopt } : {}),
      };
      fieldsOnEveryRead(change, () => fieldChanges(shape, undefined, after, label));
      changes.push(change);
    } else if (current.deleted) {
      changes.push({
        ...base,
        action: 'update',
        before: current.state,
        fields: [
          { path: 'deleted_at', segments: ['deleted_at'], before: 'deleted', after: null },
          ...fieldChanges(shape, current.state, after, label),
        ],
        version: current.version + 1,
        restore: true,
      });
    } else {
      changes.push({
        ...base,
        action: 'update',
        before: current.state,
        fields: fieldChanges(shape, current.state, after, label),
        version: current.version + 1,
      });
    }
  }
  for (const current of live.assets.values()) {
    if (graph.byUuid.has(current.state.uuid) || current.deleted) continue;
    const s = current.state;
    changes.push({
      action: 'delete',
      kind: s.kind,
      id: s.id,
      tenant: s.tenant,
      uuid: s.uuid,
      table: current.table,
      source: null,
      fields: [],
      version: current.version,
      before: s,
    });
  }
  const rank = (c: AssetChange) => (c.action === 'delete' ? 1_000 - order.get(c.kind)! : order.get(c.kind)!);
  changes.sort(
    (a, b) => rank(a) - rank(b) || (a.tenant ?? '').localeCompare(b.tenant ?? '') || a.id.localeCompare(b.id),
  );

  const summary = {
    create: changes.filter((c) => c.action === 'create').length,
    update: changes.filter((c) => c.action === 'update').length,
    delete: changes.filter((c) => c.action === 'delete').length,
    unchanged,
  };
  const plan: Plan = {
    formatVersion: '1',
    database: input.database,
    deleteMode: input.deleteMode,
    gitCommit: null,
    schema: input.schema,
    changes,
    summary,
    registryHash: '',
    liveHash: '',
    planHash: '',
    diagnostics: sortDiagnostics(diagnostics),
  };
  // Each hash is sha256 over sorted lines of the texts built above. Hashing all of them costs more
  // than planning an edit, so they are computed when first read (rendering JSON, compiling, applying),
  // as is the git commit when given as a question.
  const { gitCommit } = input;
  if (typeof gitCommit === 'function') computedOnRead(plan, 'gitCommit', gitCommit);
  else plan.gitCommit = gitCommit;
  const desiredOf = (asset: ResolvedAsset) => cache.desiredOf(shapes.get(asset.kind)!, asset);
  const textOfChange = (c: AssetChange) => (c.after ? desiredOf(graph.byUuid.get(c.uuid)!).text : '');
  computedOnRead(plan, 'registryHash', () =>
    hashSortedLines(
      graph.assets.map((asset) => {
        const { state: s, text } = desiredOf(asset);
        return { head: `${s.uuid} ${s.tenant} ${s.id} `, tail: text };
      }),
    ),
  );
  computedOnRead(plan, 'liveHash', () =>
    cache.liveHashOf(live, () =>
      hashSortedLines([
        ...[...live.assets.values()].map((a) => ({
          head: `${a.state.uuid} ${a.version} ${a.deleted} ${a.state.tenant} ${a.state.id} `,
          tail: cache.textOf(a.state),
        })),
        ...live.unmanaged.map((u) => ({ head: `unmanaged ${JSON.stringify(u)}`, tail: '' })),
      ]),
    ),
  );
  // Not the git commit: a pull request's reviewed plan is applied on the merge commit, whose id always differs.
  computedOnRead(plan, 'planHash', () =>
    hashSortedLines([
      { head: `settings ${input.deleteMode} ${plan.registryHash} ${plan.liveHash}`, tail: '' },
      ...input.schema.map((c, i) => ({
        head: `schema ${String(i).padStart(6, '0')} ${describeSchemaChange(c)}`,
        tail: '',
      })),
      ...changes.map((c) => ({
        head: `change ${c.action} ${c.uuid} ${c.version} ${c.restore ?? false} ${c.adopt ?? false} `,
        tail: textOfChange(c),
      })),
    ]),
  );
  return plan;
}

/**
 * Unmanaged rows by table and id, and by table, unique id and tenant: a registry that takes over
 * 100,000 imported rows would otherwise compare each of its assets with every one of them.
 */
function unmanagedIndex(rows: LiveRegistry['unmanaged']) {
  const byUuid = new Map<string, number>();
  const byKey = new Map<string, number>();
  const key = (table: string, uniqueId: string, tenant: string | null) => JSON.stringify([table, uniqueId, tenant]);
  // The first of equal rows wins, as a search in their order would find it.
  for (let i = rows.length - 1; i >= 0; i--) {
    const u = rows[i]!;
    byUuid.set(`${u.table} ${u.uuid}`, i);
    byKey.set(key(u.table, u.uniqueId, u.tenantUuid), i);
  }
  return {
    find(table: string, asset: ResolvedAsset): LiveRegistry['unmanaged'][number] | undefined {
      const tenant = (asset.row.tenant_id as string | undefined) ?? null;
      const a = byUuid.get(`${table} ${asset.uuid}`) ?? Infinity;
      const b = byKey.get(key(table, asset.id, tenant)) ?? Infinity;
      return rows[Math.min(a, b)];
    },
  };
}

/**
 * A new asset's field changes are every field of its state, so they are derived on each read (rendering
 * reads them once per format) rather than held: a plan of 100,000 creates would otherwise keep some
 * 1.5 million of them, a quarter of its memory. Assigning `fields` replaces the derivation with the value.
 */
function fieldsOnEveryRead(change: AssetChange, derive: () => AssetChange['fields']): void {
  Object.defineProperty(change, 'fields', {
    enumerable: true,
    configurable: true,
    get: derive,
    set: (value: AssetChange['fields']) =>
      Object.defineProperty(change, 'fields', { value, enumerable: true, writable: true, configurable: true }),
  });
}

const ofTenant = (tenant: string | null) => (tenant ? ` of tenant '${tenant}'` : '');

import type { ReferenceModel } from '../../kinds/model.ts';
import { type Asset, assetKey, isAssetKey, label } from './assets.ts';
import type { LegacyBuilder } from './build.ts';
import type { AssetKey } from './expressions.ts';

/** An edge of an acyclic property: from an asset to the asset a field or list entry points at. */
interface Edge {
  from: Asset;
  to: string;
  drop(reason: string): void;
}

/**
 * After every row is in: references that point at no imported asset, or at another tenant's private
 * one, are dropped; then self-references and cycles of acyclic properties (parents, dependencies,
 * prerequisites) are broken, each dropped edge reported on the row it came from.
 */
export function checkReferences(builder: LegacyBuilder) {
  const assets = builder.assets;
  const resolve = (owner: Asset, ref: ReferenceModel, v: unknown): { key?: string; why?: string } => {
    const candidates: AssetKey[] = isAssetKey(v)
      ? [{ ...v }]
      : [
          owner.tenant ? { kind: ref.target, tenant: owner.tenant, id: String(v) } : undefined,
          { kind: ref.target, tenant: null, id: String(v) },
        ].filter((x): x is AssetKey => x !== undefined);
    for (const c of candidates) {
      if (c.kind !== ref.target) return { why: `points at a ${c.kind}, not a ${ref.target}` };
      const target = assets.get(assetKey(c));
      if (!target) continue;
      if (target.tenant !== null && target.tenant !== owner.tenant && owner.model.tenancy === 'tenant')
        return { why: `${label(target)} is private to tenant ${target.tenant}` };
      return { key: target.key };
    }
    return { why: `${label(candidates[0]!)} was not imported` };
  };
  const edges = new Map<string, Edge[]>();
  const addEdge = (group: string, edge: Edge) => edges.set(group, [...(edges.get(group) ?? []), edge]);
  for (const asset of assets.values()) {
    for (const ref of asset.model.references) {
      const field = asset.fields.get(ref.property);
      if (!field || ref.many) continue;
      const { key, why } = resolve(asset, ref, field.value);
      const drop = (reason: string) => {
        asset.fields.delete(ref.property);
        builder.coerce(field.origin, asset, ref.property, `reference dropped: ${reason}`);
      };
      if (!key) drop(why!);
      else {
        field.value = assets.get(key)!;
        if (ref.acyclic) addEdge(`${asset.kind}.${ref.property}`, { from: asset, to: key, drop });
      }
    }
    for (const relation of asset.model.relations) {
      const list = asset.relations.get(relation.property) ?? [];
      for (const item of [...list]) {
        const drop = (reason: string) => {
          list.splice(list.indexOf(item), 1);
          if (item.ownRow) builder.setFate(item.origin, { outcome: 'skipped', reason });
          else builder.coerce(item.origin, asset, relation.property, `entry dropped: ${reason}`);
        };
        for (const ref of relation.references) {
          const v = item.value[ref.property];
          if (v === undefined) continue;
          const { key, why } = resolve(asset, ref, v);
          if (!key) {
            drop(`${ref.property} ${why}`);
            break;
          }
          item.value[ref.property] = assets.get(key)!;
          if (relation.acyclic && relation.key.includes(ref.property))
            addEdge(`${asset.kind}.${relation.property}`, { from: asset, to: key, drop });
        }
      }
    }
  }
  for (const group of [...edges.keys()].sort()) breakCycles(edges.get(group)!, assets);
  uniqueWithinTenant(builder);
}

/** Columns unique within a tenant (workflow and use-case codes): the first asset in id order keeps a value. */
function uniqueWithinTenant(builder: LegacyBuilder) {
  const seen = new Map<string, Asset>();
  for (const asset of [...builder.assets.values()].sort((a, b) => (a.key < b.key ? -1 : 1))) {
    for (const column of asset.model.columns.filter((c) => c.unique === 'tenant')) {
      const field = asset.fields.get(column.property);
      if (!field) continue;
      const value = JSON.stringify(field.value);
      const key = `${asset.kind}\u0000${asset.tenant ?? ''}\u0000${column.property}\u0000${value}`;
      const first = seen.get(key);
      if (!first) {
        seen.set(key, asset);
        continue;
      }
      asset.fields.delete(column.property);
      const reason = `${value} dropped: ${label(first)} has this ${column.property} already (unique within a tenant)`;
      builder.coerce(field.origin, asset, column.property, reason);
    }
  }
}

/** Self-edges go; then a depth-first walk in id order drops each edge that closes a cycle. */
function breakCycles(list: Edge[], assets: Map<string, Asset>) {
  const out = new Map<string, Edge[]>();
  for (const e of list) {
    if (e.to === e.from.key) {
      e.drop(`${label(e.from)} refers to itself`);
      continue;
    }
    out.set(e.from.key, [...(out.get(e.from.key) ?? []), e]);
  }
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const e of [...(out.get(node) ?? [])].sort((a, b) => (a.to < b.to ? -1 : 1))) {
      const s = state.get(e.to);
      if (s === 'open') {
        const cycle = [...path.slice(path.indexOf(e.to)), e.to].map((k) => assets.get(k)!.id).join(' → ');
        e.drop(`it closes the cycle ${cycle}`);
        out.set(
          node,
          out.get(node)!.filter((x) => x !== e),
        );
      } else if (s === undefined) visit(e.to);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of [...out.keys()].sort()) if (!state.has(node)) visit(node);
}

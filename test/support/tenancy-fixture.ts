import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { ColumnModel, KindCatalog, KindModel, RelationModel } from '../../src/kinds/model.ts';
import type { SqlType } from '../../src/kinds/sql-type.ts';
import { assetUuid } from '../../src/resolve/uuid.ts';
import { tempDir } from './temp.ts';

/**
 * A registry built from the catalog for the isolation matrix: for every tenant-scoped kind, one asset
 * per situation a tenant can be in towards another tenant's asset. Tenants: p (root) → a → c, and b.
 * The matrix looks at everything from tenant a. Generated, so a new kind is covered without new tests.
 */
export const situations = {
  own: { owner: 'a', suffix: 'own' },
  otherPrivate: { owner: 'b', suffix: 'b-private' },
  public: { owner: null, suffix: 'platform' },
  published: { owner: 'b', suffix: 'b-published' },
  sharedView: { owner: 'b', suffix: 'b-shared-view' },
  sharedEdit: { owner: 'b', suffix: 'b-shared-edit' },
  parent: { owner: 'p', suffix: 'p-private' },
  child: { owner: 'c', suffix: 'c-private' },
} as const;
export type Situation = keyof typeof situations;

export const tenantIds = ['p', 'a', 'c', 'b'] as const;
export const tenantUuid = (catalog: KindCatalog, id: string) => assetUuid(catalog.tenantKind!.kind, null, id);
export const assetId = (model: KindModel, situation: Situation) =>
  `${model.kind.toLowerCase()}-${situations[situation].suffix}`;
export const uuidOf = (model: KindModel, situation: Situation) =>
  assetUuid(model.kind, situations[situation].owner, assetId(model, situation));
/** A second platform asset of each kind: rows the matrix inserts point at it, so they never collide with existing ones. */
export const extraId = (model: KindModel) => `${model.kind.toLowerCase()}-extra`;

/** A value of the right type (the first enum value when there is one), for required columns. */
export function sampleValue(type: SqlType, enumValues?: string[]): unknown {
  if (enumValues?.length) return enumValues[0];
  if (type.array) return [];
  switch (type.name) {
    case 'varchar':
    case 'text':
      return 'x';
    case 'integer':
    case 'bigint':
      return 1;
    case 'numeric':
      return 0;
    case 'boolean':
      return true;
    case 'jsonb':
      return {};
    case 'date':
      return '2024-01-01';
    default:
      return null;
  }
}

const requiredColumns = (columns: ColumnModel[]) =>
  Object.fromEntries(
    columns
      .filter((c) => c.required && c.property !== 'id' && c.property !== 'name')
      .map((c) => [c.property, sampleValue(c.type, c.enum)]),
  );

function relationEntry(
  catalog: KindCatalog,
  relation: RelationModel,
  extraFor?: string,
): Record<string, unknown> | undefined {
  const entry: Record<string, unknown> = {};
  for (const ref of relation.references) {
    if (!relation.key.includes(ref.property) && !ref.required) continue;
    const target = catalog.kinds.get(ref.target)!;
    if (target.kind === catalog.tenantKind?.kind) return undefined;
    entry[ref.property] =
      target.tenancy === 'global'
        ? `${target.kind.toLowerCase()}-one`
        : ref.target === extraFor
          ? extraId(target)
          : `${target.kind.toLowerCase()}-platform`;
  }
  for (const c of relation.columns)
    if (relation.key.includes(c.property) || c.required) entry[c.property] = sampleValue(c.type, c.enum);
  return entry;
}

export function writeTenancyRegistry(catalog: KindCatalog): string {
  const dir = join(tempDir('canon-tenancy-'), 'registry');
  mkdirSync(dir, { recursive: true });
  const docs: Record<string, unknown>[] = [];
  for (const model of catalog.kinds.values()) {
    if (model.tenancy === 'global' && model.kind !== catalog.tenantKind?.kind) {
      docs.push({
        kind: model.kind,
        id: `${model.kind.toLowerCase()}-one`,
        name: 'One',
        ...requiredColumns(model.columns),
      });
      docs.push({ kind: model.kind, id: extraId(model), name: 'Extra', ...requiredColumns(model.columns) });
    }
  }
  const parent: Record<string, string> = { a: 'p', c: 'a' };
  for (const t of tenantIds)
    docs.push({
      kind: catalog.tenantKind!.kind,
      id: t,
      name: `Tenant ${t}`,
      ...(parent[t] ? { parent: parent[t] } : {}),
    });
  for (const model of catalog.kinds.values()) {
    if (model.tenancy !== 'tenant') continue;
    const base = requiredColumns(model.columns);
    const relations = (situation: Situation | 'extra') => {
      const out: Record<string, unknown> = {};
      for (const relation of model.relations) {
        if (relation.polymorphic || relation.audience) continue;
        // Self-references (dependencies, prerequisites) point at the platform asset, which points at the
        // extra asset, which points at nothing: acyclic relations stay acyclic.
        const selfRef = relation.references.some((r) => r.target === model.kind);
        if (selfRef && situation === 'extra') continue;
        const entry = relationEntry(catalog, relation, selfRef && situation === 'public' ? model.kind : undefined);
        if (entry) out[relation.property] = [entry];
      }
      return out;
    };
    const sharing = catalog.sharingProperty;
    const overrides = model.relations.find((r) => r.audience)?.property;
    for (const situation of Object.keys(situations) as Situation[]) {
      const owner = situations[situation].owner;
      const doc: Record<string, unknown> = {
        kind: model.kind,
        id: assetId(model, situation),
        name: `${model.kind} ${situation}`,
        ...(owner ? { tenant: owner } : {}),
        ...base,
        ...relations(situation),
      };
      if (situation === 'published') doc.is_public = true;
      if (sharing && situation === 'sharedView') doc[sharing] = ['a'];
      if (sharing && situation === 'sharedEdit') doc[sharing] = [{ tenant: 'a', can_edit: true, can_delete: false }];
      if (sharing && situation === 'own') doc[sharing] = ['b'];
      // Tenant a's overrides of every asset it can see; b's override of the platform asset.
      const visibleToA = ['own', 'public', 'published', 'sharedView', 'sharedEdit', 'parent'].includes(situation);
      if (overrides && visibleToA)
        doc[overrides] =
          situation === 'public'
            ? [
                { tenant: 'a', config: { x: 1 } },
                { tenant: 'b', config: { x: 2 } },
              ]
            : [{ tenant: 'a', config: { x: 1 } }];
      docs.push(doc);
    }
    docs.push({ kind: model.kind, id: extraId(model), name: `${model.kind} extra`, ...base, ...relations('extra') });
  }
  writeFileSync(join(dir, 'assets.yaml'), docs.map((d) => stringify(d)).join('---\n'));
  writeFileSync(join(dir, 'canon.yaml'), 'embeddings:\n  dimensions: 3\n');
  return dir;
}

import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error, type SourcePosition } from '../diagnostics/diagnostic.ts';
import { didYouMean } from '../diagnostics/suggest.ts';
import type { KindCatalog, ReferenceModel, RelationModel } from '../kinds/model.ts';
import { isMapping, locate, type ValuePath } from '../load/document.ts';
import type { KindedDocument, ValidatedRegistry } from '../validate/validate.ts';
import { type Edge, findCycles } from './cycles.ts';
import type { RegistryGraph, ResolvedAsset, Row } from './graph.ts';
import { AssetIndex, type IndexedAsset, type Lookup } from './index.ts';
import { TenantScope } from './scope.ts';
import { checkTenancy } from './tenancy.ts';
import { checkUniqueColumns } from './unique-columns.ts';

export interface ResolvedRegistry {
  graph: RegistryGraph;
  diagnostics: Diagnostic[];
}

interface CycleSite {
  at: SourcePosition;
  kind: string;
  property: string;
}

const article = (kind: string) => `${/^[AEIOU]/.test(kind) ? 'an' : 'a'} ${kind}`;
const describeOwner = (tenant: string | null) => (tenant === null ? 'the platform registry' : `tenant '${tenant}'`);

/** What resolving one asset gives: its graph node (when its document is valid), its problems, its acyclic edges. */
export interface EntryResolution {
  asset?: ResolvedAsset;
  diagnostics: Diagnostic[];
  edges: Edge<CycleSite>[];
}

/** What resolving an asset asks of the index: enough to answer "what does this id mean here?". */
export interface Lookups {
  lookup(kind: string, id: string, viewer: string | null): Lookup;
}

/** Stage 3: validated documents → a graph whose references are database ids. */
export function resolveRegistry(validated: ValidatedRegistry, catalog: KindCatalog): ResolvedRegistry {
  const diagnostics: Diagnostic[] = [];
  const scope = new TenantScope(catalog, validated.documents);
  const index = new AssetIndex(catalog, scope);
  const entries = indexAll(validated.documents, index, diagnostics);
  return finishResolution(
    catalog,
    scope,
    entries,
    entries.map((entry) => resolveEntry(entry, index)),
    diagnostics,
  );
}

/** One asset's references, relation rows and row, as the resolver sees them. */
export function resolveEntry(entry: IndexedAsset, index: Lookups): EntryResolution {
  const diagnostics: Diagnostic[] = [];
  const edges: Edge<CycleSite>[] = [];
  const { document } = entry;
  const { doc, model, value } = document;
  // Located only when a message or a cycle edge needs the position: most references resolve.
  const reference = (ref: ReferenceModel, id: string, path: ValuePath): string | undefined => {
    const target = resolveOne(index, ref, id, entry.tenant, () => locate(doc, path), diagnostics);
    if (target && ref.acyclic) {
      const where = { at: locate(doc, path), kind: model.kind, property: ref.property };
      edges.push({ from: entry.uuid, to: target.uuid, where });
    }
    return target?.uuid;
  };
  const row: Row = { id: entry.uuid };
  for (const column of model.columns) {
    if (value[column.property] !== undefined) row[column.column] = value[column.property];
  }
  for (const ref of model.references) {
    const raw = value[ref.property];
    if (ref.many && Array.isArray(raw)) {
      row[ref.column] = raw.map((id, i) => reference(ref, String(id), [ref.property, i]) ?? null);
    } else if (typeof raw === 'string') row[ref.column] = reference(ref, raw, [ref.property]) ?? null;
  }
  const relations: Record<string, Row[]> = {};
  for (const relation of model.relations) {
    relations[relation.table] = relationRows(document, relation, entry, reference, diagnostics);
  }
  // Invalid documents still get their references checked (every problem in one run), but stay out of the graph.
  if (!document.valid) return { diagnostics, edges };
  const asset: ResolvedAsset = {
    kind: model.kind,
    id: value.id,
    tenant: entry.tenant,
    uuid: entry.uuid,
    explicitUuid: typeof value.uuid === 'string',
    source: locate(doc, ['id']),
    row,
    relations,
  };
  return { asset, diagnostics, edges };
}

/** The checks that span the whole registry (tenancy rules, cycles), and the graph in document order. */
export function finishResolution(
  catalog: KindCatalog,
  scope: TenantScope,
  entries: readonly IndexedAsset[],
  resolutions: readonly EntryResolution[],
  diagnostics: Diagnostic[],
): ResolvedRegistry {
  const assets: ResolvedAsset[] = [];
  const edges: Edge<CycleSite>[] = [];
  for (const r of resolutions) {
    if (r.asset) assets.push(r.asset);
    for (const d of r.diagnostics) diagnostics.push(d);
    for (const e of r.edges) edges.push(e);
  }
  diagnostics.push(...checkTenancy(catalog, scope, entries), ...checkUniqueColumns(entries));
  const cycles = findCycles(edges);
  if (cycles.length > 0) {
    const labelOf = new Map(entries.map((e) => [e.uuid, e.document.value.id]));
    for (const cycle of cycles) {
      const names = [...cycle.nodes, cycle.nodes[0]!].map((u) => labelOf.get(u) ?? u);
      const { at, kind, property } = cycle.closing.where;
      const path = names.join(' → ');
      const message = `${kind} ${property} forms a cycle: ${path}; break it by removing one of these references`;
      diagnostics.push(error(codes.cycle, at, message));
    }
  }
  return { graph: { assets, byUuid: new Map(assets.map((a) => [a.uuid, a])) }, diagnostics };
}

/** Every document into the index; a later duplicate (same kind, owner and id, or same uuid) is reported, left out. */
export function indexAll(documents: readonly KindedDocument[], index: AssetIndex, diagnostics: Diagnostic[]) {
  return withoutDuplicates(
    documents.map((document) => index.add(document)),
    diagnostics,
  );
}

/** What makes two assets the same one: kind, owner and id. */
export const identityKey = (entry: IndexedAsset) =>
  `${entry.document.model.kind}\u0000${entry.tenant ?? ''}\u0000${entry.document.value.id}`;

/**
 * The entries (in document order) without those that repeat an earlier kept one: same identity, or
 * same uuid. Each left out is reported where it is written, naming the one kept.
 */
export function withoutDuplicates(entries: readonly IndexedAsset[], diagnostics: Diagnostic[], keyOf = identityKey) {
  const firstByKey = new Map<string, IndexedAsset>();
  const firstByUuid = new Map<string, IndexedAsset>();
  const kept: IndexedAsset[] = [];
  for (const entry of entries) {
    const { document } = entry;
    const key = keyOf(entry);
    const first = firstByKey.get(key) ?? firstByUuid.get(entry.uuid);
    if (first) {
      const where = locate(first.document.doc, ['id']);
      const sameId = first.document.value.id === document.value.id && first.document.model.kind === document.model.kind;
      const message = sameId
        ? `duplicate ${document.model.kind} id '${document.value.id}' in ${describeOwner(entry.tenant)}; ` +
          `it is first defined at ${where.file}:${where.line}:${where.column}. Rename one of them`
        : `uuid ${entry.uuid} is already used by ${first.document.model.kind} '${first.document.value.id}' ` +
          `at ${where.file}:${where.line}:${where.column}; each asset needs its own uuid`;
      diagnostics.push(error(codes.duplicateId, locate(document.doc, [sameId ? 'id' : 'uuid']), message));
      continue;
    }
    firstByKey.set(key, entry);
    firstByUuid.set(entry.uuid, entry);
    kept.push(entry);
  }
  return kept;
}

function resolveOne(
  index: Lookups,
  ref: ReferenceModel,
  id: string,
  viewer: string | null,
  locateIt: () => SourcePosition,
  diagnostics: Diagnostic[],
): IndexedAsset | undefined {
  const result = index.lookup(ref.target, id, viewer);
  if ('found' in result) return result.found;
  const at = locateIt();
  if ('privateTo' in result) {
    const owner = result.privateTo;
    const shareHint = viewer ? `share it (shared_with: [${viewer}]), ` : '';
    diagnostics.push(
      error(
        codes.privateReference,
        at,
        `${ref.target} '${id}' belongs to ${describeOwner(owner.tenant)} and is private, ` +
          `so ${describeOwner(viewer)} cannot use it; ` +
          `${shareHint}set is_public: true on it, or reference an asset of your own tenant`,
      ),
    );
  } else if ('otherKind' in result) {
    const other = result.otherKind.document;
    const where = locate(other.doc, ['id']);
    diagnostics.push(
      error(
        codes.wrongKindReference,
        at,
        `'${id}' is ${article(other.model.kind)} (${where.file}:${where.line}:${where.column}), ` +
          `but ${ref.property} expects ${article(ref.target)}`,
      ),
    );
  } else {
    const hint = didYouMean(id, result.candidates);
    diagnostics.push(
      error(
        codes.danglingReference,
        at,
        `no ${ref.target} with id '${id}' is visible to ` +
          `${describeOwner(viewer)}.${hint || ` Define it, or fix the id.`}`,
      ),
    );
  }
  return undefined;
}

type Referencer = (ref: ReferenceModel, id: string, path: ValuePath) => string | undefined;

const asWritten = new WeakMap<RelationModel, Map<ReferenceModel, ReferenceModel>>();

/**
 * A relation item's reference as messages and cycles speak of it: by the list the author wrote
 * (`depends_on`), not the item's key (`task`). Made once per relation and reference, not once per item.
 */
function asWrittenIn(relation: RelationModel, ref: ReferenceModel): ReferenceModel {
  let ofRelation = asWritten.get(relation);
  if (!ofRelation) asWritten.set(relation, (ofRelation = new Map()));
  let written = ofRelation.get(ref);
  if (!written) {
    written = { ...ref, property: relation.property, acyclic: ref.acyclic || relation.acyclic };
    ofRelation.set(ref, written);
  }
  return written;
}

function relationRows(
  document: KindedDocument,
  relation: RelationModel,
  owner: IndexedAsset,
  reference: Referencer,
  diagnostics: Diagnostic[],
): Row[] {
  const raw = document.value[relation.property];
  if (!Array.isArray(raw)) return [];
  const rows: Row[] = [];
  const seenKeys = new Map<string, number>();
  const trueFlags = new Map<string, number>();
  raw.forEach((rawItem: unknown, i: number) => {
    const item = typeof rawItem === 'string' && relation.shorthand ? { [relation.shorthand]: rawItem } : rawItem;
    if (!isMapping(item)) return;
    const path = [relation.property, i];
    const row: Row = { [relation.ownerColumn]: owner.uuid };
    for (const column of relation.columns)
      if (item[column.property] !== undefined) row[column.column] = item[column.property];
    for (const ref of relation.references) {
      const id = item[ref.property];
      if (typeof id !== 'string') continue;
      const refPath = typeof rawItem === 'string' ? path : [...path, ref.property];
      row[ref.column] = reference(asWrittenIn(relation, ref), id, refPath) ?? null;
    }
    const key = JSON.stringify(relation.key.map((k) => item[k] ?? null));
    const earlier = seenKeys.get(key);
    if (earlier !== undefined) {
      const keyText = relation.key.map((k) => `${k} ${JSON.stringify(item[k] ?? null)}`).join(', ');
      diagnostics.push(
        error(
          codes.duplicateRelationEntry,
          locate(document.doc, path),
          `${relation.property}[${i}] repeats ${relation.property}[${earlier}] ` +
            `(same ${keyText}); merge the two entries`,
        ),
      );
      return;
    }
    seenKeys.set(key, i);
    for (const flag of relation.atMostOne) {
      if (item[flag] !== true) continue;
      const first = trueFlags.get(flag);
      if (first !== undefined) {
        diagnostics.push(
          error(
            codes.multiplePrimary,
            locate(document.doc, [...path, flag]),
            `only one entry of ${relation.property} may have ${flag}: true, ` +
              `but ${relation.property}[${first}] has it too; keep one`,
          ),
        );
      } else trueFlags.set(flag, i);
    }
    rows.push(row);
  });
  return rows;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type {
  ColumnModel,
  JsonSchema,
  KindCatalog,
  KindModel,
  ReferenceModel,
  RelationModel,
  Tenancy,
} from './model.ts';
import { parseSqlType } from './sql-type.ts';

/** A mistake in schemas/ itself: a developer error, reported with the schema file and pointer. */
export class SchemaAnnotationError extends Error {}

const isObject = (v: unknown): v is JsonSchema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads every `*.schema.json` in `dir`. A schema with `x-canon` is a kind; the others are shared definitions. */
export function loadKindCatalog(dir: string): KindCatalog {
  const schemas = new Map<string, JsonSchema>();
  const files = new Map<string, string>();
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()) {
    const path = join(dir, name);
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new SchemaAnnotationError(`${path}: not valid JSON: ${(e as Error).message}`);
    }
    if (!isObject(schema) || typeof schema.$id !== 'string')
      throw new SchemaAnnotationError(`${path}: a schema needs a string $id`);
    if (schemas.has(schema.$id))
      throw new SchemaAnnotationError(`${path}: $id ${schema.$id} is used by ${files.get(schema.$id)} too`);
    schemas.set(schema.$id, schema);
    files.set(schema.$id, relative(process.cwd(), path) || path);
  }
  const kinds = new Map<string, KindModel>();
  for (const [id, schema] of schemas) {
    if (!('x-canon' in schema)) continue;
    const model = buildKind(schema, id, files.get(id)!, schemas);
    if (kinds.has(model.kind)) throw new SchemaAnnotationError(`${model.file}: kind ${model.kind} is defined twice`);
    kinds.set(model.kind, model);
  }
  checkTargets(kinds);
  const tenancy = tenantKindOf(kinds);
  return { schemas, kinds, ...tenancy, ...sharingOf(kinds, tenancy.tenantKind?.kind) };
}

/** Follows `$ref`s (relative to the schema's `$id`), merging annotations: the referring side wins. */
export function dereference(
  node: JsonSchema,
  baseId: string,
  schemas: ReadonlyMap<string, JsonSchema>,
  seen = new Set<string>(),
): JsonSchema {
  if (typeof node.$ref !== 'string') return node;
  const url = new URL(node.$ref, baseId);
  const key = url.href;
  if (seen.has(key)) throw new SchemaAnnotationError(`circular $ref ${key}`);
  const documentId = url.href.slice(0, url.href.length - url.hash.length);
  const document = schemas.get(documentId);
  if (!document)
    throw new SchemaAnnotationError(`$ref ${node.$ref} (from ${baseId}): no schema with $id ${documentId}`);
  let target: unknown = document;
  for (const segment of decodeURIComponent(url.hash.replace(/^#\/?/, '')).split('/').filter(Boolean)) {
    target = isObject(target) ? target[segment] : undefined;
  }
  if (!isObject(target)) throw new SchemaAnnotationError(`$ref ${node.$ref} (from ${baseId}) points at nothing`);
  const { $ref: _ignored, ...siblings } = node;
  // Refs inside the target are relative to its own document: make them absolute so the merged node
  // can be followed further from any base.
  return {
    ...(absolutize(dereference(target, documentId, schemas, new Set([...seen, key])), documentId) as JsonSchema),
    ...siblings,
  };
}

function absolutize(node: unknown, base: string): unknown {
  if (Array.isArray(node)) return node.map((n) => absolutize(n, base));
  if (!isObject(node)) return node;
  return Object.fromEntries(
    Object.entries(node).map(([k, v]) => [
      k,
      k === '$ref' && typeof v === 'string' ? new URL(v, base).href : absolutize(v, base),
    ]),
  );
}

function buildKind(schema: JsonSchema, id: string, file: string, schemas: ReadonlyMap<string, JsonSchema>): KindModel {
  const where = (pointer: string) => `${file}${pointer}`;
  const canon = schema['x-canon'];
  if (!isObject(canon) || typeof canon.table !== 'string')
    throw new SchemaAnnotationError(`${where('#/x-canon')}: needs a string "table"`);
  const tenancy = (canon.tenancy ?? 'tenant') as Tenancy;
  if (tenancy !== 'tenant' && tenancy !== 'global')
    throw new SchemaAnnotationError(`${where('#/x-canon/tenancy')}: "tenant" or "global"`);
  const kindConst =
    isObject(schema.properties) && isObject(schema.properties.kind) ? schema.properties.kind.const : undefined;
  if (typeof kindConst !== 'string')
    throw new SchemaAnnotationError(`${where('#/properties/kind')}: needs {"const": "<Kind>"}`);
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(Array.isArray(schema.required) ? schema.required.map(String) : []);
  const model: KindModel = {
    kind: kindConst,
    table: canon.table,
    tenancy,
    search: Array.isArray(canon.search) ? canon.search.map(String) : [],
    schemaId: id,
    file,
    properties: Object.keys(properties),
    columns: [],
    references: [],
    relations: [],
    limits: [],
  };
  for (const [property, raw] of Object.entries(properties)) {
    if (!isObject(raw)) continue;
    const node = dereference(raw, id, schemas);
    const pointer = `#/properties/${property}`;
    if (node['x-relation']) model.relations.push(relationOf(property, node, id, schemas, where(pointer)));
    else if (node['x-ref']) model.references.push(referenceOf(property, node, required.has(property), where(pointer)));
    else if (node['x-column']) model.columns.push(columnOf(property, node, required.has(property), where(pointer)));
    const limit = node['x-limit'];
    if (limit !== undefined) {
      if (!isObject(limit) || typeof limit.kind !== 'string')
        throw new SchemaAnnotationError(`${where(pointer)}/x-limit: needs "kind"`);
      model.limits.push({ property, kind: limit.kind });
    }
  }
  for (const feature of ['chunks'] as const) {
    const value = canon[feature];
    if (value === undefined) continue;
    if (!isObject(value) || typeof value.table !== 'string' || typeof value.owner !== 'string')
      throw new SchemaAnnotationError(`${where(`#/x-canon/${feature}`)}: needs "table" and "owner"`);
    model[feature] = { table: value.table, owner: value.owner };
    for (const key of ['text', 'file', 'format'] as const) {
      const property = value[key];
      if (property === undefined) continue;
      if (typeof property !== 'string' || !model.columns.some((c) => c.property === property)) {
        throw new SchemaAnnotationError(`${where(`#/x-canon/${feature}/${key}`)}: must name a column property`);
      }
      model[feature][key] = property;
    }
  }
  if (canon.analytics !== undefined) {
    if (!isObject(canon.analytics) || typeof canon.analytics.view !== 'string')
      throw new SchemaAnnotationError(`${where('#/x-canon/analytics')}: needs "view"`);
    model.analytics = { view: canon.analytics.view };
  }
  for (const property of model.search) {
    if (!model.columns.some((c) => c.property === property))
      throw new SchemaAnnotationError(`${where('#/x-canon/search')}: ${property} is not a column`);
  }
  return model;
}

function columnOf(property: string, node: JsonSchema, required: boolean, where: string): ColumnModel {
  const column = node['x-column'];
  if (!isObject(column) || typeof column.type !== 'string')
    throw new SchemaAnnotationError(`${where}/x-column: needs a string "type"`);
  const type = parseSqlType(column.type);
  if (!type) throw new SchemaAnnotationError(`${where}/x-column/type: unsupported SQL type '${column.type}'`);
  const model: ColumnModel = {
    property,
    column: typeof column.name === 'string' ? column.name : property,
    type,
    required,
  };
  if ('default' in column) {
    if (typeof column.default !== 'boolean' && !Number.isSafeInteger(column.default))
      throw new SchemaAnnotationError(`${where}/x-column/default: a boolean or an integer`);
    model.default = column.default as boolean | number;
  }
  if (Array.isArray(node.enum)) model.enum = node.enum.map(String);
  if (type.array && node.uniqueItems === true) model.set = true;
  if (column.unique === 'tenant') model.unique = 'tenant';
  if (column.owner_only === true) model.ownerOnly = true;
  return model;
}

function referenceOf(property: string, node: JsonSchema, required: boolean, where: string): ReferenceModel {
  const ref = node['x-ref'];
  if (!isObject(ref) || typeof ref.kind !== 'string' || typeof ref.column !== 'string') {
    throw new SchemaAnnotationError(`${where}/x-ref: needs string "kind" and "column"`);
  }
  const model: ReferenceModel = {
    property,
    column: ref.column,
    target: ref.kind,
    many: node.type === 'array',
    acyclic: ref.acyclic === true,
    required,
  };
  if (typeof ref.onDelete === 'string') model.onDelete = ref.onDelete as ReferenceModel['onDelete'];
  if (ref.restricts === true) model.restricts = true;
  if (model.many && node.uniqueItems === true) model.set = true;
  return model;
}

function relationOf(
  property: string,
  node: JsonSchema,
  baseId: string,
  schemas: ReadonlyMap<string, JsonSchema>,
  where: string,
): RelationModel {
  const rel = node['x-relation'];
  if (!isObject(rel) || typeof rel.table !== 'string' || typeof rel.owner !== 'string' || !Array.isArray(rel.key)) {
    throw new SchemaAnnotationError(`${where}/x-relation: needs "table", "owner" and "key"`);
  }
  const items = isObject(node.items) ? node.items : {};
  const variants = Array.isArray(items.anyOf) ? items.anyOf.filter(isObject) : [items];
  const objectItem = variants.map((v) => dereference(v, baseId, schemas)).find((v) => v.type === 'object');
  if (!objectItem || !isObject(objectItem.properties))
    throw new SchemaAnnotationError(`${where}/items: needs an object variant with properties`);
  const model: RelationModel = {
    property,
    table: rel.table,
    ownerColumn: rel.owner,
    key: rel.key.map(String),
    acyclic: rel.acyclic === true,
    columns: [],
    references: [],
    atMostOne: [],
    polymorphic: rel.polymorphic === true,
  };
  if (typeof rel.shorthand === 'string') model.shorthand = rel.shorthand;
  if (typeof rel.audience === 'string') model.audience = rel.audience;
  const itemRequired = new Set(Array.isArray(objectItem.required) ? objectItem.required.map(String) : []);
  for (const [itemProperty, raw] of Object.entries(objectItem.properties)) {
    if (!isObject(raw)) continue;
    const itemNode = dereference(raw, baseId, schemas);
    const itemWhere = `${where}/items/properties/${itemProperty}`;
    if (itemNode['x-ref'])
      model.references.push(referenceOf(itemProperty, itemNode, itemRequired.has(itemProperty), itemWhere));
    else if (itemNode['x-column'])
      model.columns.push(columnOf(itemProperty, itemNode, itemRequired.has(itemProperty), itemWhere));
    else throw new SchemaAnnotationError(`${itemWhere}: a relation item property needs x-column or x-ref`);
    if (itemNode['x-at-most-one'] === true) model.atMostOne.push(itemProperty);
  }
  const itemProperties = new Set(Object.keys(objectItem.properties));
  for (const k of [
    ...model.key,
    ...(model.shorthand ? [model.shorthand] : []),
    ...(model.audience ? [model.audience] : []),
  ]) {
    if (!itemProperties.has(k)) throw new SchemaAnnotationError(`${where}/x-relation: ${k} is not an item property`);
  }
  return model;
}

function checkTargets(kinds: ReadonlyMap<string, KindModel>) {
  for (const model of kinds.values()) {
    const refs = [...model.references, ...model.relations.flatMap((r) => r.references)];
    for (const ref of refs) {
      if (!kinds.has(ref.target))
        throw new SchemaAnnotationError(`${model.file}: ${ref.property} references unknown kind ${ref.target}`);
    }
    for (const limit of model.limits) {
      if (!kinds.has(limit.kind))
        throw new SchemaAnnotationError(`${model.file}: ${limit.property} limits unknown kind ${limit.kind}`);
    }
  }
}

/** The owner of tenant-scoped assets is whatever kind their `tenant` property references. */
function tenantKindOf(kinds: ReadonlyMap<string, KindModel>): Pick<KindCatalog, 'tenantKind'> {
  const targets = new Set(
    [...kinds.values()].flatMap((k) => k.references.filter((r) => r.property === 'tenant').map((r) => r.target)),
  );
  if (targets.size > 1)
    throw new SchemaAnnotationError(`the tenant property references several kinds: ${[...targets].join(', ')}`);
  const [kind] = targets;
  if (kind === undefined) return {};
  const parent = kinds.get(kind)!.references.find((r) => r.target === kind && r.acyclic);
  return { tenantKind: parent ? { kind, parent } : { kind } };
}

/** Sharing is the polymorphic relation keyed by a tenant (asset_sharing's `shared_with`). */
function sharingOf(
  kinds: ReadonlyMap<string, KindModel>,
  tenantKind: string | undefined,
): Pick<KindCatalog, 'sharingProperty'> {
  const properties = new Set<string>();
  for (const model of kinds.values()) {
    for (const r of model.relations) {
      if (r.polymorphic && r.references.some((ref) => ref.target === tenantKind && r.key.includes(ref.property)))
        properties.add(r.property);
    }
  }
  if (properties.size > 1) throw new SchemaAnnotationError(`several sharing relations: ${[...properties].join(', ')}`);
  const [property] = properties;
  return property ? { sharingProperty: property } : {};
}

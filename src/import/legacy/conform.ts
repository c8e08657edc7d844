import type { JsonSchema, KindCatalog, KindModel } from '../../kinds/model.ts';

/** A property's JSON Schema with `$ref`s followed (sibling keywords win), as conform needs it. */
export function resolveSchema(catalog: KindCatalog, schema: JsonSchema, base: string): JsonSchema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const [file, pointer = ''] = ref.split('#');
  const docId = file ? new URL(file, base).toString() : base;
  let target = catalog.schemas.get(docId) as unknown;
  for (const part of pointer.split('/').filter(Boolean)) target = (target as Record<string, unknown>)?.[part];
  const { $ref: _, ...rest } = schema;
  return { ...resolveSchema(catalog, (target ?? {}) as JsonSchema, docId), ...rest };
}

/** Resolved once per catalog, kind and property: import asks for the same few schemas for every row. */
const memo = new WeakMap<KindCatalog, Map<string, unknown>>();
function remember<T>(catalog: KindCatalog, key: string, make: () => T): T {
  let cache = memo.get(catalog);
  if (!cache) memo.set(catalog, (cache = new Map()));
  if (!cache.has(key)) cache.set(key, make());
  return cache.get(key) as T;
}

/** The schema of a property of a kind. */
export function propertySchema(catalog: KindCatalog, model: KindModel, property: string): JsonSchema {
  return remember(catalog, `p\u0000${model.kind}\u0000${property}`, () => {
    const root = catalog.schemas.get(model.schemaId) as { properties?: Record<string, JsonSchema> };
    return resolveSchema(catalog, root.properties?.[property] ?? {}, model.schemaId);
  });
}

/** The object form of a relation property's items: its properties, in schema order. */
export function itemSchemas(catalog: KindCatalog, model: KindModel, property: string): Record<string, JsonSchema> {
  return remember(catalog, `i\u0000${model.kind}\u0000${property}`, () => itemSchemasOf(catalog, model, property));
}

function itemSchemasOf(catalog: KindCatalog, model: KindModel, property: string): Record<string, JsonSchema> {
  const list = propertySchema(catalog, model, property);
  const items = resolveSchema(catalog, (list.items ?? {}) as JsonSchema, model.schemaId);
  const forms = (items.anyOf as JsonSchema[] | undefined) ?? [items];
  const object = forms.map((f) => resolveSchema(catalog, f, model.schemaId)).find((f) => f.type === 'object');
  const props = (object?.properties ?? {}) as Record<string, JsonSchema>;
  return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, resolveSchema(catalog, v, model.schemaId)]));
}

export interface Conformed {
  value: unknown;
  /** Why the value was changed or dropped; absent when it fit as it was. */
  coercion?: string;
}

const show = (v: unknown) => {
  const s = typeof v === 'string' ? `'${v}'` : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
};
const shape = (v: unknown) =>
  Array.isArray(v) ? 'a list' : v === null ? 'null' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
const squash = (s: string) => s.toLowerCase().replace(/[\s-]+/g, '_');

/**
 * Makes a legacy value fit the property's schema, the rules the README lists: enum values matched
 * ignoring case, spaces and hyphens ('FINAL' → 'final', 'Data Collection' → 'data_collection'); text cut
 * to its maximum length; an object where a list is expected wrapped in a list; JSON held in text parsed;
 * numbers and booleans read from text. What cannot be made to fit is dropped, never guessed.
 */
export function conform(schema: JsonSchema, value: unknown): Conformed {
  if (value === null || value === undefined) return { value: null };
  const type = schema.type;
  const drop = (why: string): Conformed => ({ value: null, coercion: `${show(value)} dropped: ${why}` });
  if (type === 'string') {
    if (typeof value === 'object') return drop(`expected text, found ${shape(value)}`);
    const s = String(value);
    const enumValues = schema.enum as string[] | undefined;
    if (enumValues) {
      if (enumValues.includes(s)) return { value: s };
      const found = enumValues.find((e) => squash(e) === squash(s.trim()));
      if (found) return { value: found, coercion: `${show(s)} → '${found}' (the schema's spelling)` };
      return drop(`not one of ${enumValues.join(', ')}`);
    }
    if (s === '' && typeof schema.minLength === 'number' && schema.minLength > 0) return drop('empty');
    if (schema.format === 'uri' && !isUrl(s)) return drop('not a URL');
    if (schema.format === 'date') {
      const d = value instanceof Date ? value : new Date(s);
      if (Number.isNaN(d.getTime())) return drop('not a date');
      const iso = d.toISOString().slice(0, 10);
      return iso === s ? { value: s } : { value: iso, coercion: `${show(s)} → '${iso}' (a date)` };
    }
    const max = schema.maxLength as number | undefined;
    if (max !== undefined && [...s].length > max) {
      const cut = [...s].slice(0, max).join('').trimEnd();
      return { value: cut, coercion: `${[...s].length} characters, cut to ${max} (the schema's maximum)` };
    }
    return typeof value === 'string' ? { value: s } : { value: s, coercion: `${show(value)} read as text` };
  }
  if (type === 'integer' || type === 'number') {
    const n =
      typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n)))
      return drop(`not ${type === 'integer' ? 'an integer' : 'a number'}`);
    if (typeof schema.minimum === 'number' && n < schema.minimum) return drop(`below ${schema.minimum}`);
    if (typeof schema.maximum === 'number' && n > schema.maximum) return drop(`above ${schema.maximum}`);
    return typeof value === 'number' ? { value: n } : { value: n, coercion: `${show(value)} read as a number` };
  }
  if (type === 'boolean') {
    if (typeof value === 'boolean') return { value };
    const s = String(value).toLowerCase();
    if (['true', 't', 'yes', '1'].includes(s)) return { value: true, coercion: `${show(value)} read as true` };
    if (['false', 'f', 'no', '0'].includes(s)) return { value: false, coercion: `${show(value)} read as false` };
    return drop('not a boolean');
  }
  if (type === 'object' || type === 'array') {
    let v = value;
    let note: string | undefined;
    if (typeof v === 'string') {
      try {
        const parsed = JSON.parse(v) as unknown;
        if (parsed !== null && typeof parsed === 'object') {
          v = parsed;
          note = 'JSON text parsed';
        }
      } catch {
        // not JSON: judged below as the string it is
      }
    }
    if (type === 'object') {
      if (v !== null && typeof v === 'object' && !Array.isArray(v))
        return { value: v, ...(note ? { coercion: note } : {}) };
      return drop(`expected an object, found ${shape(v)}`);
    }
    if (Array.isArray(v)) return conformItems(schema, v, note);
    if (v !== null && typeof v === 'object')
      return { value: [v], coercion: 'an object where a list belongs: wrapped in a list' };
    return drop(`expected a list, found ${shape(v)}`);
  }
  return { value };
}

function conformItems(schema: JsonSchema, list: unknown[], note: string | undefined): Conformed {
  const items = schema.items as JsonSchema | undefined;
  if (items?.type !== 'string') return { value: list, ...(note ? { coercion: note } : {}) };
  const kept = list.filter((x) => typeof x === 'string' && x !== '');
  if (kept.length === list.length) return { value: list, ...(note ? { coercion: note } : {}) };
  return { value: kept, coercion: `${list.length - kept.length} entries that are not text dropped from the list` };
}

function isUrl(s: string): boolean {
  try {
    const url = new URL(s);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

import { createHash } from 'node:crypto';
import type { SqlType } from '../kinds/sql-type.ts';
import { canonicalInteger } from './exact-json.ts';

/** An array type's element type, made once per type rather than once per value. */
const elementTypes = new WeakMap<SqlType, SqlType>();

/**
 * One canonical form for a value, whether it came from YAML or from the database, so that a
 * registry that was just applied plans as 0 changes: JSONB key order, numeric scale and
 * NULL-versus-absent compare equal; text is compared exactly.
 */
export function normalizeValue(value: unknown, type: SqlType): unknown {
  if (value === undefined || value === null) return null;
  if (type.array) {
    if (!Array.isArray(value)) return value;
    const element = elementTypes.get(type) ?? elementTypes.set(type, { ...type, array: false }).get(type)!;
    return value.map((v) => normalizeValue(v, element));
  }
  switch (type.name) {
    case 'text':
    case 'varchar':
      // Exactly as written: YAML's chomping indicators (`|`, `|-`, `|+`) are how an author says which
      // trailing newlines a prompt has, and its bytes are what a model is sent.
      return value;
    case 'numeric': {
      const n = typeof value === 'string' ? Number(value) : value;
      return typeof n === 'number' ? Number(n.toFixed(type.scale)) : n;
    }
    case 'integer':
    case 'bigint':
      return typeof value === 'bigint' ? Number(value) : value;
    case 'uuid':
      return typeof value === 'string' ? value.toLowerCase() : value;
    case 'jsonb':
      return sortKeys(value);
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : value;
    default:
      return value;
  }
}

/**
 * The value with every object's keys in sorted order (and exact integers as canonicalInteger gives
 * them). Parts already in that form are returned as they are, not copied: states are canonical
 * already except for a few small objects, and copying every prompt's text tree for each statement and
 * hash of a 100k apply was most of its client time and garbage. Only plain objects are shared; any
 * other object is rebuilt from its own keys, as before. Values are never mutated once built, so a
 * shared part is safe.
 */
export function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return canonicalInteger(value);
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      const sorted = sortKeys(item);
      if (out) out.push(sorted);
      else if (sorted !== item) {
        out = value.slice(0, i);
        out.push(sorted);
      }
    }
    return out ?? value;
  }
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const prototype = Object.getPrototypeOf(record);
    let shared = prototype === Object.prototype || prototype === null;
    for (let i = 1; shared && i < keys.length; i++) if (keys[i - 1]! > keys[i]!) shared = false;
    const values = keys.map((k) => {
      const sorted = sortKeys(record[k]);
      if (sorted !== record[k]) shared = false;
      return sorted;
    });
    if (shared) return value;
    // A loop, not fromEntries over mapped pairs: a pair array per key was garbage the collector paid
    // for at 100k assets. `__proto__` stays a key.
    const order = keys.map((_, i) => i).sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
    const out: Record<string, unknown> = {};
    for (const i of order) {
      const k = keys[i]!;
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: values[i], enumerable: true, writable: true, configurable: true });
      else out[k] = values[i];
    }
    return out;
  }
  return value;
}

/** JSON with sorted keys: equal values, equal text. */
export const stableJson = (value: unknown) => JSON.stringify(sortKeys(value));

const isScalar = (v: unknown) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';

/** `stableJson` of a list, without copying it when its items are scalars (nothing to sort). */
export const stableJsonList = (values: unknown[]) =>
  values.every(isScalar) ? JSON.stringify(values) : stableJson(values);

export const sameValue = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);

export const contentHash = (value: unknown) => createHash('sha256').update(stableJson(value)).digest('hex');

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

export function sortKeys(value: unknown): unknown {
  if (typeof value === 'bigint') return canonicalInteger(value);
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    // A loop, not fromEntries over mapped pairs: this runs for every JSON value of every asset, and a
    // pair array per key was garbage the collector paid for at 100k assets. `__proto__` stays a key.
    const keys = Object.keys(value).sort();
    const out: Record<string, unknown> = {};
    for (const k of keys) {
      const v = sortKeys((value as Record<string, unknown>)[k]);
      if (k === '__proto__')
        Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      else out[k] = v;
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

import type { Row } from '../../resolve/graph.ts';
import type { Condition, Expression } from './mapping.ts';

/** An asset made from a legacy row, as a `ref` expression finds it: its kind, tenant and id. */
export interface AssetKey {
  kind: string;
  tenant: string | null;
  id: string;
}

/** What evaluating an expression needs besides the row. */
export interface Scope {
  /** `ref`: a legacy row's key in a source → the asset it became (or why there is none). */
  lookup(source: string, key: string): { asset: AssetKey } | { missing: string };
  /** Raw rows of a source, for `exists_in`. */
  rows(source: string): Row[];
  /** A `ref` that found nothing: the value becomes null, and the caller records why. */
  orphan(message: string): void;
}

/** Lower case; runs of anything but letters, digits, '.', '_' and '-' become '-'; at most 100 characters. */
export function slugify(value: string): string {
  const ascii = /^[\x20-\x7e]*$/.test(value);
  const slug = (ascii ? value : value.normalize('NFKD').replace(/[\u0300-\u036f]/g, ''))
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/-+$/, '');
  return slug.slice(0, 100).replace(/[-.]+$/, '');
}

const isNull = (v: unknown) => v === null || v === undefined;

/** A value as text, for concat, slug and map keys: scalars only. */
function text(v: unknown): string | null {
  if (isNull(v)) return null;
  if (typeof v === 'object') return v instanceof Date ? v.toISOString() : JSON.stringify(v);
  return String(v);
}

export function evaluate(e: Expression, row: Row, scope: Scope): unknown {
  if (typeof e === 'string') return row[e] ?? null;
  if ('column' in e) return row[e.column] ?? null;
  if ('const' in e) return e.const ?? null;
  if ('coalesce' in e) {
    for (const part of e.coalesce) {
      const v = evaluate(part, row, scope);
      if (!isNull(v) && v !== '') return v;
    }
    return null;
  }
  if ('concat' in e) {
    const parts = e.concat.map((p) => text(evaluate(p, row, scope)));
    return parts.some((p) => p === null) ? null : parts.join('');
  }
  if ('slug' in e) {
    const v = text(evaluate(e.slug, row, scope));
    return v === null ? null : slugify(v) || null;
  }
  if ('object' in e) {
    const out: Record<string, unknown> = {};
    for (const [k, part] of Object.entries(e.object)) {
      const v = evaluate(part, row, scope);
      if (!isNull(v)) out[k] = v;
    }
    return Object.keys(out).length > 0 ? out : null;
  }
  if ('map' in e) {
    const v = evaluate(e.map, row, scope);
    const key = text(v);
    if (key !== null && Object.hasOwn(e.values, key)) return e.values[key] ?? null;
    return e.otherwise === undefined ? v : evaluate(e.otherwise, row, scope);
  }
  if ('when' in e) {
    if (test(e.when, row, scope)) return evaluate(e.then, row, scope);
    return e.else === undefined ? null : evaluate(e.else, row, scope);
  }
  const key = text(evaluate(e.from, row, scope));
  if (key === null) return null;
  const found = scope.lookup(e.ref, key);
  if ('asset' in found) return found.asset;
  scope.orphan(found.missing);
  return null;
}

export function test(c: Condition, row: Row, scope: Scope): boolean {
  if ('always' in c) return true;
  if ('is_null' in c) return isNull(evaluate(c.is_null, row, scope));
  if ('not_null' in c) return !isNull(evaluate(c.not_null, row, scope));
  if ('equals' in c) {
    const [a, b] = c.equals.map((x) => text(evaluate(x, row, scope)));
    return a !== null && a === b;
  }
  return matchIn(c.exists_in, row, scope) !== undefined;
}

/** The first row of another source whose columns equal this row's values (`exists_in`). */
export function matchIn(
  c: { source: string; match: Record<string, Expression> },
  row: Row,
  scope: Scope,
): Row | undefined {
  const wanted = Object.entries(c.match).map(([column, e]) => [column, text(evaluate(e, row, scope))] as const);
  if (wanted.some(([, v]) => v === null)) return undefined;
  return scope.rows(c.source).find((other) => wanted.every(([column, v]) => text(other[column]) === v));
}

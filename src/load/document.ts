import type { SourcePosition } from '../diagnostics/diagnostic.ts';

/** A path into a document's value: property names and array indexes. */
export type ValuePath = readonly (string | number)[];

/**
 * Where each node of a document stands, keyed by JSON pointer ("" is the root, "/prompts/0" the first
 * prompt): [valueLine, valueColumn, keyLine, keyColumn], the key being 0,0 for array items and the root.
 * A plain object, so documents can cross worker threads and live in the load cache.
 */
export type PositionIndex = Record<string, [number, number, number, number]>;

/** One YAML document of a registry file, as data with the positions of its nodes. */
export interface SourceDocument {
  /** Path relative to the registry's parent folder, with forward slashes, as printed in diagnostics. */
  file: string;
  /** 0-based index of the document within its file. */
  index: number;
  value: unknown;
  positions: PositionIndex;
}

/** Keys that would reach Object.prototype in code that copies documents into plain objects: refused. */
export const forbiddenKeys: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** One JSON-pointer segment, escaped (RFC 6901). */
export const pointerSegment = (key: string | number) => String(key).replace(/~/g, '~0').replace(/\//g, '~1');

export const pointerOf = (path: ValuePath) => path.map((p) => `/${pointerSegment(p)}`).join('');

/** A YAML mapping as a JS value: an object that is not a list. */
export const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The position of the node at `path` (its key when `at` is 'key' and it has one). A path below an alias
 * or past the end falls back to the nearest ancestor that has a position.
 */
export function locate(doc: SourceDocument, path: ValuePath, at: 'key' | 'value' = 'value'): SourcePosition {
  for (let n = path.length; n >= 0; n--) {
    const entry = doc.positions[pointerOf(path.slice(0, n))];
    if (!entry) continue;
    const useKey = at === 'key' && n === path.length && entry[2] > 0;
    return { file: doc.file, line: useKey ? entry[2] : entry[0], column: useKey ? entry[3] : entry[1] };
  }
  return { file: doc.file, line: 1, column: 1 };
}

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { isMapping } from '../load/document.ts';
import type { Labeler } from '../plan/fields.ts';
import { sameValue, stableJson } from '../plan/normalize.ts';
import type { KindShape, RelationShape, ShapeColumn } from '../plan/shape.ts';
import type { Row } from '../resolve/graph.ts';
import type { DriftEntry } from './drift.ts';
import { applySplices, documentEdits, type ItemIdentity, type Splice } from './yaml-edit.ts';

/** What `canon drift --write` did: files rewritten, and drift it could not take into the registry, with why. */
export interface WriteOutcome {
  files: string[];
  adopted: DriftEntry[];
  skipped: { entry: DriftEntry; reason: string }[];
}

type Doc = Record<string, unknown>;

/** A column's value as an author writes it: references as ids. */
function authored(column: ShapeColumn, value: unknown, label: Labeler): unknown {
  if (value === null || value === undefined || !column.target) return value ?? null;
  return Array.isArray(value) ? value.map((v) => label(String(v))) : label(String(value));
}

/** Three-way merge of a JSON value: what changed between `applied` and `live` replaces what the registry holds. */
function mergeJson(registry: unknown, applied: unknown, live: unknown): unknown {
  if (sameValue(applied, live)) return registry;
  if (!isMapping(registry) || !isMapping(applied) || !isMapping(live)) return live;
  const out: Doc = { ...registry };
  for (const key of new Set([...Object.keys(applied), ...Object.keys(live)])) {
    const merged = mergeJson(registry[key], applied[key] ?? null, live[key] ?? null);
    if (merged === null || merged === undefined) delete out[key];
    else out[key] = merged;
  }
  return out;
}

function relationTools(shape: KindShape, rel: RelationShape, label: Labeler) {
  const shorthand = shape.model.relations.find((r) => r.table === rel.table)?.shorthand;
  const keyProps = rel.keyColumns.map((k) => rel.columns.find((c) => c.column === k)!.property);
  const identity: ItemIdentity = (item) =>
    stableJson(
      keyProps.map((p) => (typeof item === 'string' ? (p === shorthand ? item : null) : (item as Doc)[p]) ?? null),
    );
  /** A relation row as the authoring format writes it: defaults and NULLs left out, a bare id where it may be. */
  const item = (row: Row, bare = true): unknown => {
    const out: Doc = {};
    for (const c of [...rel.columns].sort(
      (a, b) => Number(!keyProps.includes(a.property)) - Number(!keyProps.includes(b.property)),
    )) {
      const v = authored(c, row[c.column], label);
      if (v !== null && !(c.default !== undefined && v === c.default)) out[c.property] = v;
    }
    const keys = Object.keys(out);
    return bare && shorthand && keys.length === 1 && keys[0] === shorthand ? out[shorthand] : out;
  };
  return { identity, item, shorthand, keyProps };
}

/**
 * The registry document with the drifted fields taken from the database: per column, the live value
 * (JSON merged key by key); per relation, entries removed, added and edited by their key. Fields the
 * registry changed itself since the last apply are left as the registry has them.
 */
function adoptedDocument(entry: DriftEntry, current: Doc, shape: KindShape, labelOf: Labeler) {
  const doc: Doc = structuredClone(current);
  // A reference to a row Canon does not manage has no id to write: the asset is then left alone.
  const unknown = new Set<string>();
  const label: Labeler = (uuid) => {
    const id = labelOf(uuid);
    if (id === uuid) unknown.add(uuid);
    return id;
  };
  const applied = entry.applied!;
  const notWritten: string[] = [];
  for (const c of shape.columns) {
    const [a, l] = [applied.columns[c.column] ?? null, entry.live.columns[c.column] ?? null];
    if (sameValue(a, l)) continue;
    if (c.property === 'id' || c.property === 'tenant' || !shape.model.properties.includes(c.property)) {
      notWritten.push(c.property);
      continue;
    }
    const value =
      c.type.name === 'jsonb' && !c.type.array ? mergeJson(doc[c.property] ?? null, a, l) : authored(c, l, label);
    if (value === null || value === undefined) delete doc[c.property];
    else doc[c.property] = value;
  }
  const identities = new Map<string, ItemIdentity>();
  for (const rel of shape.relations) {
    const a = applied.relations[rel.table] ?? {};
    const l = entry.live.relations[rel.table] ?? {};
    if (sameValue(a, l)) continue;
    const { identity, item, shorthand, keyProps } = relationTools(shape, rel, label);
    identities.set(rel.property, identity);
    const list = Array.isArray(doc[rel.property]) ? [...(doc[rel.property] as unknown[])] : [];
    const keyOfRow = (row: Row) => identity(item(row));
    const aByKey = new Map(Object.values(a).map((r) => [keyOfRow(r), r]));
    const lByKey = new Map(Object.values(l).map((r) => [keyOfRow(r), r]));
    let next = list.filter((i) => !(aByKey.has(identity(i)) && !lByKey.has(identity(i))));
    next = next.map((i) => {
      const before = aByKey.get(identity(i));
      const after = lByKey.get(identity(i));
      if (!before || !after || sameValue(before, after)) return i;
      const edited: Doc = typeof i === 'string' ? { [shorthand!]: i } : { ...(i as Doc) };
      for (const c of rel.columns) {
        if (keyProps.includes(c.property) || sameValue(before[c.column] ?? null, after[c.column] ?? null)) continue;
        const v = authored(c, after[c.column], label);
        if (v === null || (c.default !== undefined && v === c.default)) delete edited[c.property];
        else edited[c.property] = v;
      }
      const keys = Object.keys(edited);
      return typeof i === 'string' && keys.length === 1 ? i : edited;
    });
    const present = new Set(next.map(identity));
    // A bare id only among bare ids: an entry added to a list of mappings is written as a mapping too.
    const bare = list.every((i) => typeof i === 'string');
    for (const [key, row] of lByKey) if (!aByKey.has(key) && !present.has(key)) next.push(item(row, bare));
    if (next.length === 0) delete doc[rel.property];
    else doc[rel.property] = next;
  }
  const ordered = inSchemaOrder(doc, Object.keys(current), shape.model.properties);
  return { doc: ordered, identities, notWritten, unknown: [...unknown] };
}

/** Keys the author wrote keep their order; a new key follows the nearest key before it in the schema's order. */
function inSchemaOrder(doc: Doc, written: string[], properties: readonly string[]): Doc {
  const keys = Object.keys(doc).filter((k) => written.includes(k));
  for (const key of Object.keys(doc).filter((k) => !written.includes(k))) {
    const rank = properties.indexOf(key);
    const before = keys.findLastIndex((k) => {
      const r = properties.indexOf(k);
      return r !== -1 && r < rank;
    });
    keys.splice(before + 1, 0, key);
  }
  return Object.fromEntries(keys.map((k) => [k, doc[k]]));
}

/**
 * `canon drift --write`: the database's values of drifted rows into the registry's YAML, in place.
 * Only the nodes that change are rewritten; every other byte of the file stays as it was, comments,
 * key order, quoting and blank lines included. Each edited file is read back before it is written:
 * unless it parses to exactly the intended documents, it is left alone and the drift reported.
 */
export function writeDrift(
  entries: readonly DriftEntry[],
  shapes: ReadonlyMap<string, KindShape>,
  label: Labeler,
): WriteOutcome {
  const outcome: WriteOutcome = { files: [], adopted: [], skipped: [] };
  const byFile = new Map<string, DriftEntry[]>();
  for (const entry of entries) {
    if (entry.registry !== 'differs') continue;
    if (!entry.source || !entry.applied) {
      const reason = entry.source ? 'Canon kept no record of what it wrote' : 'the asset is not in the registry';
      outcome.skipped.push({ entry, reason });
      continue;
    }
    byFile.set(entry.source.file, [...(byFile.get(entry.source.file) ?? []), entry]);
  }
  for (const [file, list] of byFile) {
    const path = resolve(file);
    const src = readFileSync(path, 'utf8');
    const docs = parseAllDocuments(src);
    const splices: Splice[] = [];
    const expected = new Map<number, unknown>();
    const written: DriftEntry[] = [];
    for (const entry of list) {
      const at = offsetOf(src, entry.source!.line, entry.source!.column);
      const index = docs.findIndex((d) => d.contents?.range && d.contents.range[0] <= at && at <= d.contents.range[2]);
      const root = docs[index]?.contents;
      if (!root || (root.toJSON() as Doc)?.id !== entry.id) {
        outcome.skipped.push({ entry, reason: `no document starts at ${file}:${entry.source!.line}` });
        continue;
      }
      const shape = shapes.get(entry.kind)!;
      const { doc, identities, notWritten, unknown } = adoptedDocument(entry, root.toJSON() as Doc, shape, label);
      if (unknown.length > 0) {
        const reason = `references rows Canon does not manage (${unknown.join(', ')}); change it by hand`;
        outcome.skipped.push({ entry, reason });
        continue;
      }
      if (notWritten.length > 0)
        outcome.skipped.push({ entry, reason: `not written, change it by hand: ${notWritten.join(', ')}` });
      splices.push(...documentEdits(src, root, doc, identities));
      expected.set(index, doc);
      written.push(entry);
    }
    const next = applySplices(src, splices);
    const reread = parseAllDocuments(next);
    const same =
      reread.length === docs.length &&
      reread.every((d) => d.errors.length === 0) &&
      reread.every((d, i) => sameValue(d.toJSON(), expected.has(i) ? expected.get(i) : docs[i]!.toJSON()));
    if (!same) {
      for (const entry of written)
        outcome.skipped.push({
          entry,
          reason: `${file} could not be edited in place safely; nothing was written to it`,
        });
      continue;
    }
    if (next !== src) {
      writeFileSync(path, next);
      outcome.files.push(file);
    }
    outcome.adopted.push(...written);
  }
  return outcome;
}

/** The offset of a 1-based line and column. */
function offsetOf(src: string, line: number, column: number): number {
  let offset = 0;
  for (let l = 1; l < line && offset !== -1; l++) offset = src.indexOf('\n', offset) + 1;
  return offset + column - 1;
}

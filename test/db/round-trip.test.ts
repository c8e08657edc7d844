import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { dereference } from '../../src/kinds/catalog.ts';
import type { ColumnModel, JsonSchema, KindModel, RelationModel } from '../../src/kinds/model.ts';
import { backends } from '../support/databases.ts';
import {
  columnValue,
  decimalText,
  type GeneratedAsset,
  generableColumns,
  hostileString,
  prng,
  type Random,
} from '../support/random-registry.ts';
import { apply, catalog, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';
import { entryYaml } from '../support/yaml-writer.ts';

// Property-style round trip: a few hundred assets with random values drawn from each column's schema,
// written as YAML in every style, are applied; the rows read back with plain SQL equal what YAML
// parsing gives; the plan is then empty; and one value changed per asset plans exactly that path.
// Another seed: CANON_ROUND_TRIP_SEED=… (the failing seed is in the test's name).
const seed = Number(process.env.CANON_ROUND_TRIP_SEED ?? 20_261_125);
const assetCount = 300;
const mutated = 60;

type Decimal = { units: bigint; scale: number };
const isDecimal = (v: unknown): v is Decimal => typeof v === 'object' && v !== null && 'units' in v && 'scale' in v;

const kinds = [...catalog.kinds.values()];
const schemaOf = (model: KindModel, property: string) =>
  (catalog.schemas.get(model.schemaId) as { properties: Record<string, Record<string, unknown>> }).properties[
    property
  ] ?? {};

/** The schema of a relation item's property (`industries[].relevance_score`), $refs followed. */
function itemSchema(model: KindModel, relation: RelationModel, property: string): Record<string, unknown> {
  const node = dereference(schemaOf(model, relation.property) as JsonSchema, model.schemaId, catalog.schemas);
  const items = node.items as JsonSchema;
  const variants = ((items.anyOf as JsonSchema[] | undefined) ?? [items]).map((v) =>
    dereference(v, model.schemaId, catalog.schemas),
  );
  const object = variants.find((v) => v.type === 'object')!;
  return dereference((object.properties as Record<string, JsonSchema>)[property]!, model.schemaId, catalog.schemas);
}

/** The industry mapping relation of a kind, if it has one: each generated asset may carry one entry. */
const industriesOf = (model: KindModel) => model.relations.find((rel) => rel.property === 'industries');
const industryIds = Array.from({ length: assetCount }, (_, i) => i)
  .filter((i) => kinds[i % kinds.length]!.kind === 'Industry')
  .map((i) => `industry-${i}`);

function industryEntry(r: Random, model: KindModel, relation: RelationModel): Record<string, unknown> {
  const entry: Record<string, unknown> = { industry: r.pick(industryIds) };
  for (const column of relation.columns)
    if (r.chance(0.6)) entry[column.property] = columnValue(r, column, itemSchema(model, relation, column.property));
  return entry;
}

function generateAssets(r: Random): GeneratedAsset[] {
  return Array.from({ length: assetCount }, (_, i) => {
    const model = kinds[i % kinds.length]!;
    const values: Record<string, unknown> = {};
    for (const column of generableColumns(model, catalog)) {
      const required = column.property === 'name' || column.required;
      if (!required && !r.chance(0.6)) continue;
      let value = columnValue(r, column, schemaOf(model, column.property));
      if (column.unique && typeof value === 'string' && column.type.name === 'varchar') {
        // Unique within a tenant (workflow codes): each asset's own suffix.
        const suffix = `#${i}`;
        value = [...value].slice(0, column.type.length - suffix.length).join('') + suffix;
      }
      values[column.property] = value;
    }
    const industries = industriesOf(model);
    if (industries && r.chance(0.5)) values.industries = [industryEntry(r, model, industries)];
    return { kind: model.kind, id: `${model.kind.toLowerCase()}-${i}`, values };
  });
}

const documentYaml = (r: Random, asset: GeneratedAsset) =>
  `kind: ${asset.kind}\nid: ${asset.id}\n${Object.entries(asset.values)
    .map(([k, v]) => entryYaml(r, k, v, 0))
    .join('')}`;

/** Files of about 25 documents; some with CRLF line ends, some with a byte-order mark. */
function writeRegistry(r: Random, dir: string, assets: GeneratedAsset[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (let start = 0, n = 0; start < assets.length; start += 25, n++) {
    let text = assets
      .slice(start, start + 25)
      .map((a) => documentYaml(r, a))
      .join(r.chance(0.5) ? '---\n' : '--- # next\n');
    if (n % 3 === 1) text = text.replace(/\n/g, '\r\n');
    if (n % 4 === 2) text = `\ufeff${text}`;
    texts.set(`assets-${n}.yaml`, text);
    writeFileSync(join(dir, `assets-${n}.yaml`), text);
  }
  return texts;
}

/** What YAML parsing produces for each asset (integers as bigints, exactly), by id. */
function parsedByYaml(texts: Map<string, string>): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const text of texts.values()) {
    for (const doc of parseAllDocuments(text, { intAsBigInt: true })) {
      expect(doc.errors).toEqual([]);
      const value = doc.toJS() as Record<string, unknown>;
      out.set(String(value.id), value);
    }
  }
  return out;
}

/**
 * The generator's intention as YAML should read it (with intAsBigInt): decimals as the numbers they
 * denote, and whole numbers, which a double's shortest text writes without a point, as integers.
 */
function intended(value: unknown): unknown {
  if (isDecimal(value)) return Number(decimalText(value));
  if (typeof value === 'number' && Number.isInteger(value) && !String(value).includes('e')) return BigInt(value);
  if (Array.isArray(value)) return value.map(intended);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, intended(v)]));
  return value;
}

/** JSON text of a parsed YAML value with its bigints written as the numbers they are (this test's own writer). */
const jsonText = (value: unknown): string =>
  JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(-?\d+)"/g, '$1');

/** A non-jsonb column's value as `column::text` prints it. */
function expectedText(column: ColumnModel, value: unknown): unknown {
  switch (column.type.name) {
    case 'integer':
      return String(value);
    case 'numeric':
      return typeof value === 'bigint'
        ? `${value}.${'0'.repeat(column.type.scale)}`
        : (value as number).toFixed(column.type.scale);
    case 'boolean':
      return String(value);
    default:
      return value;
  }
}

/** Rows read back with plain SQL, compared with YAML's values: mismatches as [id, property, db, yaml]. */
async function mismatches(db: Database, assets: GeneratedAsset[], yaml: Map<string, Record<string, unknown>>) {
  const found: unknown[] = [];
  for (const model of kinds) {
    const ofKind = assets.filter((a) => a.kind === model.kind);
    if (ofKind.length === 0) continue;
    const table = sql.identifier([model.table]);
    for (const column of generableColumns(model, catalog)) {
      const having = ofKind.filter((a) => column.property in a.values);
      if (having.length === 0) continue;
      const col = sql.identifier([column.column]);
      const ids = sql.array(
        having.map((a) => a.id),
        'text',
      );
      if (column.type.name === 'jsonb') {
        const expected = sql.array(
          having.map((a) => jsonText(yaml.get(a.id)![column.property])),
          'text',
        );
        const wrong = await db.pool.anyFirst(sql.type(z.object({ unique_id: z.string() }))`
          SELECT t.unique_id FROM unnest(${ids}::text[], ${expected}::text[]) AS u(id, expected)
          JOIN ${table} t ON t.unique_id = u.id WHERE t.${col} IS DISTINCT FROM u.expected::jsonb`);
        for (const id of wrong)
          found.push([id, column.property, 'jsonb differs', jsonText(yaml.get(id)![column.property])]);
        continue;
      }
      // Text as JSON: PGlite's decoder drops a leading U+FEFF from a plain text value.
      const text = column.type.name === 'text' || column.type.name === 'varchar';
      const read = column.type.array || text ? sql.fragment`to_json(t.${col})::text` : sql.fragment`t.${col}::text`;
      const rows = await db.pool.any(sql.type(z.object({ unique_id: z.string(), value: z.string().nullable() }))`
        SELECT t.unique_id, ${read} AS value FROM ${table} t WHERE t.unique_id = ANY(${ids})`);
      expect(rows).toHaveLength(having.length);
      for (const row of rows) {
        const want = yaml.get(row.unique_id)![column.property];
        const got = (column.type.array || text) && row.value !== null ? JSON.parse(row.value) : row.value;
        const expected = expectedText(column, want);
        if (JSON.stringify(got) !== JSON.stringify(expected))
          found.push([row.unique_id, column.property, got, expected]);
      }
    }
  }
  found.push(...(await relationMismatches(db, assets, yaml)));
  return found;
}

/** The industry mapping rows, read back with plain SQL: one entry per asset that has one. */
async function relationMismatches(db: Database, assets: GeneratedAsset[], yaml: Map<string, Record<string, unknown>>) {
  const found: unknown[] = [];
  // [asset, property, stored jsonb text, expected JSON text]: compared by PostgreSQL in one query.
  const jsonPairs: [string, string, string, string][] = [];
  for (const model of kinds) {
    const relation = industriesOf(model);
    const having = assets.filter((a) => a.kind === model.kind && a.values.industries);
    if (!relation || having.length === 0) continue;
    const t = sql.identifier([relation.table]);
    const owner = sql.identifier([relation.ownerColumn]);
    const ids = sql.array(
      having.map((a) => a.id),
      'text',
    );
    for (const column of relation.columns) {
      const col = sql.identifier([column.column]);
      const rows = await db.pool.any(sql.type(z.object({ unique_id: z.string(), value: z.string().nullable() }))`
        SELECT a.unique_id, ${column.type.name === 'jsonb' ? sql.fragment`r.${col}::text` : sql.fragment`to_json(r.${col})::text`} AS value
        FROM ${t} r JOIN ${sql.identifier([model.table])} a ON a.id = r.${owner} WHERE a.unique_id = ANY(${ids})`);
      expect(rows).toHaveLength(having.length);
      for (const row of rows) {
        const entry = (yaml.get(row.unique_id)!.industries as Record<string, unknown>[])[0]!;
        const want = entry[column.property] ?? column.default ?? null;
        // Absent or null, the column is SQL NULL (JSON's null is not stored for a missing value).
        if (want === null || row.value === null) {
          if (want !== row.value) found.push([row.unique_id, relation.property, column.property, row.value, want]);
          continue;
        }
        if (column.type.name === 'jsonb') {
          jsonPairs.push([row.unique_id, column.property, row.value, jsonText(want)]);
          continue;
        }
        const got = JSON.parse(row.value);
        const expected = typeof want === 'bigint' ? Number(want) : want;
        if (JSON.stringify(got) !== JSON.stringify(expected))
          found.push([row.unique_id, relation.property, column.property, got, expected]);
      }
    }
  }
  const column = (i: number) =>
    sql.array(
      jsonPairs.map((p) => p[i]!),
      'text',
    );
  const differing = await db.pool.anyFirst(sql.type(z.object({ n: z.number() }))`
    SELECT (u.n - 1)::int AS n FROM unnest(${column(2)}::text[], ${column(3)}::text[]) WITH ORDINALITY AS u(stored, expected, n)
    WHERE u.stored::jsonb IS DISTINCT FROM u.expected::jsonb`);
  for (const n of differing) found.push(['industries', ...jsonPairs[n]!]);
  return found;
}

type Segment = string | { entry: string };
interface Mutation {
  id: string;
  segments: Segment[];
}

/** Changes one value of the asset in place; returns the path the plan must name. */
function mutate(r: Random, asset: GeneratedAsset): Segment[] {
  const model = catalog.kinds.get(asset.kind)!;
  const entry = (asset.values.industries as Record<string, unknown>[] | undefined)?.[0];
  const relation = industriesOf(model);
  if (entry && relation && r.chance(0.3)) {
    const column = r.pick(relation.columns);
    const at: Segment[] = ['industries', { entry: String(entry.industry) }, column.property];
    if (!(column.property in entry) && column.default === undefined) {
      // A value where there was none (a JSON value too) is one change of the column.
      entry[column.property] = columnValue(r, column, itemSchema(model, relation, column.property));
      return at;
    }
    return [...at, ...mutateValue(r, entry, column, itemSchema(model, relation, column.property))];
  }
  const present = generableColumns(model, catalog).filter((c) => c.property in asset.values && c.property !== 'id');
  const column = r.pick(present);
  return [column.property, ...mutateValue(r, asset.values, column, schemaOf(model, column.property))];
}

/** Changes `holder[column.property]`; returns the path below the column that the plan must name. */
function mutateValue(
  r: Random,
  holder: Record<string, unknown>,
  column: ColumnModel,
  schema: Record<string, unknown>,
): string[] {
  const p = column.property;
  const v = holder[p] ?? column.default;
  if (column.enum) {
    holder[p] = column.enum.find((e) => e !== v) ?? v;
    return [];
  }
  switch (column.type.name) {
    case 'varchar':
    case 'text': {
      if (Array.isArray(v)) {
        holder[p] = [...v, 'added'];
        return [];
      }
      const chars = [...(v as string)];
      const max = column.type.name === 'varchar' ? column.type.length : Number.POSITIVE_INFINITY;
      holder[p] = chars.length < max ? `${v}Δ` : ['Δ', ...chars.slice(1)].join('');
      if (holder[p] === v) holder[p] = ['Ω', ...chars.slice(1)].join('');
      return [];
    }
    case 'boolean':
      holder[p] = !v;
      return [];
    case 'integer': {
      const max = BigInt(Number(schema.maximum ?? 2 ** 31 - 1));
      const n = BigInt(v as bigint | number);
      holder[p] = n === max ? n - 1n : n + 1n;
      return [];
    }
    case 'numeric': {
      const d = v as Decimal;
      const max = BigInt(Math.round(Number(schema.maximum) * 10 ** d.scale));
      holder[p] = { ...d, units: d.units === max ? d.units - 1n : d.units + 1n };
      return [];
    }
    case 'date': {
      const text = v as string;
      holder[p] = `${text.slice(0, 8)}${text.endsWith('-01') ? '02' : '01'}`;
      return [];
    }
    case 'jsonb':
      return mutateJson(r, holder, p);
    default:
      throw new Error(`cannot mutate ${column.type.name}`);
  }
}

/** Changes one thing inside `holder[key]` (a JSON value); the path below `key` the plan names. */
function mutateJson(r: Random, holder: Record<string, unknown>, key: string): string[] {
  const value = holder[key];
  if (Array.isArray(value)) {
    holder[key] = [...value, 1n]; // inside a list the plan names the list
    return [];
  }
  if (typeof value === 'object' && value !== null) {
    const object = value as Record<string, unknown>;
    const keys = Object.keys(object);
    if (keys.length === 0 || r.chance(0.1)) {
      object['added by mutation'] = null;
      return ['added by mutation'];
    }
    const k = r.pick(keys);
    if (object[k] === null && r.chance(0.5)) {
      delete object[k];
      return [k];
    }
    return [k, ...mutateJson(r, object, k)];
  }
  if (typeof value === 'bigint') holder[key] = value > 0n ? value - 1n : value + 1n;
  else if (typeof value === 'number') holder[key] = value + 1;
  else if (typeof value === 'boolean') holder[key] = !value;
  else if (typeof value === 'string') holder[key] = `${value}Δ`;
  else holder[key] = hostileString(r, 10);
  return [];
}

for (const backend of backends) {
  describe(`round trip of random values on ${backend.name} (seed ${seed})`, () => {
    let db: Database;
    let dir: string;
    let assets: GeneratedAsset[];
    const r = prng(seed);
    beforeAll(async () => {
      db = await backend.open();
      dir = join(tempDir('canon-round-trip-'), 'registry');
      mkdirSync(dir);
      assets = generateAssets(r);
    });
    afterAll(async () => db?.close());

    it('stores exactly what YAML parsing gives, then plans no change', async () => {
      const texts = writeRegistry(r, dir, assets);
      const yaml = parsedByYaml(texts);
      // The generator wrote what it meant: otherwise this test would prove less than it claims.
      for (const a of assets)
        for (const [k, v] of Object.entries(a.values)) expect(yaml.get(a.id)![k], `${a.id}.${k}`).toEqual(intended(v));
      const outcome = await apply(db, dir, backend.vector);
      expect(outcome.status === 'applied' ? [] : outcome.diagnostics).toEqual([]);
      expect(await mismatches(db, assets, yaml)).toEqual([]);
      const again = await plan(db, dir, backend.vector);
      expect(again.plan.changes).toEqual([]);
      expect(again.plan.summary.unchanged).toBe(assetCount);
    });

    it('plans exactly the one path changed in each asset', async () => {
      const changed: Mutation[] = [];
      for (const asset of assets.filter((_, i) => i % Math.floor(assetCount / mutated) === 0))
        changed.push({ id: asset.id, segments: mutate(r, asset) });
      const texts = writeRegistry(r, dir, assets);
      const yaml = parsedByYaml(texts);
      const { plan: p } = await plan(db, dir, backend.vector);
      const planned = p.changes.map((c) => ({
        id: c.id,
        action: c.action,
        segments: c.fields.map((f) => f.segments),
      }));
      expect(planned.sort((a, b) => a.id.localeCompare(b.id))).toEqual(
        changed
          .map((m) => ({ id: m.id, action: 'update', segments: [m.segments] }))
          .sort((a, b) => a.id.localeCompare(b.id)),
      );
      const outcome = await apply(db, dir, backend.vector);
      expect(outcome.status).toBe('applied');
      expect(await mismatches(db, assets, yaml)).toEqual([]);
      expect((await plan(db, dir, backend.vector)).plan.changes).toEqual([]);
    });
  });
}

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { ColumnModel, KindModel } from '../../src/kinds/model.ts';
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
  return found;
}

interface Mutation {
  id: string;
  segments: string[];
}

/** Changes one value of the asset in place; returns the path the plan must name. */
function mutate(r: Random, asset: GeneratedAsset): string[] {
  const model = catalog.kinds.get(asset.kind)!;
  const present = generableColumns(model, catalog).filter((c) => c.property in asset.values && c.property !== 'id');
  const column = r.pick(present);
  const p = column.property;
  const v = asset.values[p];
  const schema = schemaOf(model, p);
  if (column.enum) {
    asset.values[p] = column.enum.find((e) => e !== v) ?? v;
    return [p];
  }
  switch (column.type.name) {
    case 'varchar':
    case 'text': {
      if (Array.isArray(v)) {
        asset.values[p] = [...v, 'added'];
        return [p];
      }
      const chars = [...(v as string)];
      const max = column.type.name === 'varchar' ? column.type.length : Number.POSITIVE_INFINITY;
      asset.values[p] = chars.length < max ? `${v}Δ` : ['Δ', ...chars.slice(1)].join('');
      if (asset.values[p] === v) asset.values[p] = ['Ω', ...chars.slice(1)].join('');
      return [p];
    }
    case 'boolean':
      asset.values[p] = !v;
      return [p];
    case 'integer': {
      const max = BigInt(Number(schema.maximum ?? 2 ** 31 - 1));
      asset.values[p] = v === max ? (v as bigint) - 1n : (v as bigint) + 1n;
      return [p];
    }
    case 'numeric': {
      const d = v as Decimal;
      const max = BigInt(Math.round(Number(schema.maximum) * 10 ** d.scale));
      asset.values[p] = { ...d, units: d.units === max ? d.units - 1n : d.units + 1n };
      return [p];
    }
    case 'date': {
      const text = v as string;
      asset.values[p] = `${text.slice(0, 8)}${text.endsWith('-01') ? '02' : '01'}`;
      return [p];
    }
    case 'jsonb':
      return [p, ...mutateJson(r, asset.values, p)];
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

/**
 * A seeded generator of registry assets with hostile-but-valid values, for the round-trip property
 * test: values drawn from each column's schema (enums, lengths in characters, integer and numeric
 * bounds and scale, dates), strings from a pool of awkward text written in every YAML style, JSON
 * values nested deep with nulls, big integers and keys holding dots, brackets and spaces.
 */
import type { ColumnModel, KindCatalog, KindModel } from '../../src/kinds/model.ts';

/** mulberry32: small, fast, and the same sequence for a seed on every machine. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => items[int(0, items.length - 1)]!;
  const chance = (p: number) => next() < p;
  return { next, int, pick, chance };
}
export type Random = ReturnType<typeof prng>;

const pieces = [
  'plain words',
  'naïve café',
  '日本語のテキスト',
  '😀',
  '👩‍👩‍👧',
  'e\u0301',
  '\u200b',
  '\u202e',
  '\ufeff',
  '"',
  "'",
  "O'Brien",
  '\\',
  '\\n',
  '`',
  '${x}',
  '%',
  ' # not a comment',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  '[0, 100)',
  '&anchor',
  '*alias',
  '!tag',
  '|',
  '>',
  '\t',
  '\r\n',
  '\n',
  '\n\n',
  '\r',
  '\x01',
  '\x1b[31m',
  '\x7f',
  '\u0085',
  '\u2028',
  '\u2029',
  '  ',
  'null',
  'true',
  '1e3',
  '0x1F',
  '~',
  '---',
  '...',
  '\ud83d\ude00',
  '\u{10ffff}',
  '\ufffd',
];

/** A string of 1 to `max` characters (code points) from the pool; sometimes exactly `max` characters. */
export function hostileString(r: Random, max = 400): string {
  if (max < 400 && r.chance(0.15)) return r.pick(['😀', 'é', 'x', '日']).repeat(max);
  const chars: string[] = [];
  const count = r.int(1, 8);
  for (let i = 0; i < count; i++) chars.push(...r.pick(pieces));
  if (r.chance(0.2)) chars.push(...'\n'.repeat(r.int(1, 3)));
  const kept = chars.slice(0, max);
  // A text that is only white space is valid too, but keep one visible character for minLength.
  return kept.join('') || 'x';
}

const keyPieces = ['a', 'b', 'a.b', 'x[0]', 'with space', '', 'ключ', '😀', 'dots.in.key', '"q"', "it's", 'tab\there'];

/** A JSON value nested up to `depth` levels: objects, arrays, strings, numbers, big integers, nulls. */
export function jsonValue(r: Random, depth: number, top?: 'object' | 'array'): unknown {
  const kind = top ?? (depth <= 0 ? 'scalar' : r.pick(['object', 'array', 'scalar', 'scalar']));
  if (kind === 'object') {
    const out: Record<string, unknown> = {};
    const n = r.int(0, 4);
    for (let i = 0; i < n; i++) out[`${r.pick(keyPieces)}${r.chance(0.5) ? i : ''}`] = jsonValue(r, depth - 1);
    return out;
  }
  if (kind === 'array') return Array.from({ length: r.int(0, 4) }, () => jsonValue(r, depth - 1));
  return jsonScalar(r);
}

function jsonScalar(r: Random): unknown {
  switch (r.int(0, 7)) {
    case 0:
      return null;
    case 1:
      return r.chance(0.5);
    case 2:
      return BigInt(r.int(-1_000_000, 1_000_000));
    case 3: // beyond 2^53: 16 to 30 digits
      return BigInt(`${r.chance(0.3) ? '-' : ''}9${Array.from({ length: r.int(15, 29) }, () => r.int(0, 9)).join('')}`);
    case 4:
      return Number((r.next() * 10 ** r.int(-3, 6)).toPrecision(r.int(1, 15)));
    default:
      return hostileString(r, 60);
  }
}

export interface GeneratedAsset {
  kind: string;
  id: string;
  /** Property → value as YAML should read it back (integers as bigints). */
  values: Record<string, unknown>;
}

/**
 * Properties with a format or a meaning beyond their type (URLs, files read from disk, the format
 * knowledge text is parsed in) are left out.
 */
const skipped = new Set(['id', 'source_url', 'documentation_url', 'endpoint_url', 'file_path', 'content_type']);

export function generableColumns(model: KindModel, catalog: KindCatalog): ColumnModel[] {
  const schema = catalog.schemas.get(model.schemaId) as { properties: Record<string, Record<string, unknown>> };
  return model.columns.filter((c) => !skipped.has(c.property) && !schema.properties[c.property]?.format);
}

export function columnValue(r: Random, column: ColumnModel, schema: Record<string, unknown>): unknown {
  const type = column.type;
  if (column.enum) return r.pick(column.enum);
  switch (type.name) {
    case 'varchar':
      return hostileString(r, Math.min(type.length, Number(schema.maxLength ?? type.length)));
    case 'text':
      if (type.array) return Array.from({ length: r.int(0, 3) }, () => hostileString(r, 40));
      return hostileString(r, 2000);
    case 'boolean':
      return r.chance(0.5);
    case 'integer': {
      const min = Number(schema.minimum ?? -(2 ** 31));
      const max = Number(schema.maximum ?? 2 ** 31 - 1);
      return BigInt(r.pick([min, max, min + 1, max - 1, r.int(min, Math.min(max, 1_000_000))]));
    }
    case 'numeric': {
      // Whole units of the last decimal place, so the value has at most `scale` decimals.
      const unit = 10 ** type.scale;
      const min = Math.round(Number(schema.minimum ?? -(10 ** (type.precision - type.scale)) + 1 / unit) * unit);
      const max = Math.round(Number(schema.maximum ?? 10 ** (type.precision - type.scale) - 1 / unit) * unit);
      return { units: BigInt(r.pick([min, max, min + 1, max - 1, r.int(min, max)])), scale: type.scale };
    }
    case 'date': {
      const year = r.pick([1, 2000, 2024, 9999, r.int(1, 9999)]);
      const month = r.int(1, 12);
      const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
      const days = month === 2 ? (leap ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
      const day = r.pick([1, days, r.int(1, days)]);
      return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    }
    case 'jsonb':
      return jsonValue(r, r.chance(0.1) ? 40 : r.int(1, 5), schema.type === 'array' ? 'array' : 'object');
    default:
      throw new Error(`no generator for ${type.name}`);
  }
}

/** A numeric value as its decimal text: whole units of 10^-scale. */
export function decimalText(value: { units: bigint; scale: number }): string {
  const negative = value.units < 0n;
  const digits = (negative ? -value.units : value.units).toString().padStart(value.scale + 1, '0');
  const whole = digits.slice(0, digits.length - value.scale);
  const fraction = digits.slice(digits.length - value.scale);
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

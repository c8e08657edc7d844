import { expect, it } from 'vitest';
import { sortKeys, stableJson } from '../../src/plan/normalize.ts';

// Content hashes recorded in canon_managed_rows are sha256 of stableJson: sortKeys must give exactly
// what the plain definition (fromEntries over sorted keys) gives, whatever the keys are.
const plain = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, plain((value as Record<string, unknown>)[k])]),
    );
  return value;
};

it('orders keys as the plain definition does, for any keys and nesting', () => {
  let seed = 11;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const keys = ['b', 'a', '10', '2', '__proto__', 'constructor', 'é', '', 'a b'];
  const value = (depth: number): unknown => {
    const r = random();
    if (depth > 3 || r < 0.3) return [null, 1.5, 'x', true, undefined][Math.floor(random() * 5)];
    if (r < 0.5) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    const out = {};
    for (const k of keys)
      if (random() < 0.5)
        Object.defineProperty(out, k, {
          value: value(depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    return out;
  };
  for (let round = 0; round < 300; round++) {
    const v = value(0);
    expect(JSON.stringify(sortKeys(v))).toBe(JSON.stringify(plain(v)));
  }
});

it('keeps __proto__ as a key, not as the prototype', () => {
  const v = JSON.parse('{"z": 1, "__proto__": {"polluted": true}}');
  const sorted = sortKeys(v) as Record<string, unknown>;
  expect(Object.getPrototypeOf(sorted)).toBe(Object.prototype);
  expect(stableJson(v)).toBe('{"__proto__":{"polluted":true},"z":1}');
});

it('returns parts already in order as they are, and copies only the objects whose keys move', () => {
  const text = { a: 1, b: ['x', { c: 2, d: 3 }] };
  const value = { z: text, y: [1, 2] };
  const sorted = sortKeys(value) as Record<string, unknown>;
  expect(sorted).not.toBe(value);
  expect(Object.keys(sorted)).toEqual(['y', 'z']);
  expect(sorted.z).toBe(text);
  expect(sorted.y).toBe(value.y);
  // Exact integers still become their canonical form, so an array holding one is a new array.
  const big = [1n, 'x'];
  expect(sortKeys(big)).toEqual([1, 'x']);
});

it('rebuilds objects that are not plain, as the plain definition does', () => {
  const date = new Date(0);
  expect(JSON.stringify(sortKeys({ at: date }))).toBe(JSON.stringify(plain({ at: date })));
  const nullPrototype = Object.assign(Object.create(null), { b: 1, a: 2 });
  expect(JSON.stringify(sortKeys(nullPrototype))).toBe('{"a":2,"b":1}');
});

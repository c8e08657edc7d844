import { describe, expect, it } from 'vitest';
import { canonicalInteger, exactJson, parseExactJson } from '../../src/plan/exact-json.ts';
import { formatPath } from '../../src/plan/path.ts';
import { digitsOf } from '../../src/validate/column-fit.ts';

describe('exact JSON numbers', () => {
  it('reads integers beyond 2^53 exactly, and writes them back digit for digit', () => {
    const text = '{"a": 9007199254740993, "b": [-9223372036854775808, 1.5, 1e3], "c": "9007199254740993"}';
    const value = parseExactJson(text) as { a: unknown; b: unknown[]; c: unknown };
    expect(value.c).toBe('9007199254740993');
    expect(value.b[1]).toBe(1.5);
    expect(value.b[2]).toBe(1000);
    expect(exactJson(value)).toBe('{"a":9007199254740993,"b":[-9223372036854775808,1.5,1000],"c":"9007199254740993"}');
  });

  it('gives one canonical form to an integer a double holds exactly, however it was read', () => {
    expect(canonicalInteger(100000000000000000000n)).toBe(1e20);
    expect(canonicalInteger(9007199254740992n)).toBe(2 ** 53);
    expect(canonicalInteger(9007199254740993n)).not.toBe(canonicalInteger(9007199254740992n));
    expect(exactJson([canonicalInteger(-9007199254740993n)])).toBe('[-9007199254740993]');
  });

  it('parses what JSON.parse parses, nested and with escapes', () => {
    const text = '{"k\\"ey": [{"x": null, "y": [true, false]}, "a\\u00e9\\n"], "n": 1234567890123456, "e": {}}';
    expect(parseExactJson(text)).toEqual(JSON.parse(text));
  });
});

describe('decimal digits of a number as written', () => {
  it('counts decimals, integer digits and significant digits', () => {
    expect(digitsOf(1.005)).toEqual({ integerDigits: 1, decimals: 3, significant: 4 });
    expect(digitsOf(1.5)).toEqual({ integerDigits: 1, decimals: 1, significant: 2 });
    expect(digitsOf(0.0001)).toEqual({ integerDigits: 0, decimals: 4, significant: 1 });
    expect(digitsOf(1e-7)).toEqual({ integerDigits: 0, decimals: 7, significant: 1 });
    expect(digitsOf(123456789012.5)).toEqual({ integerDigits: 12, decimals: 1, significant: 13 });
    expect(digitsOf(-42)).toEqual({ integerDigits: 2, decimals: 0, significant: 2 });
    expect(digitsOf(1e21)).toEqual({ integerDigits: 22, decimals: 0, significant: 1 });
    expect(digitsOf(0)).toEqual({ integerDigits: 0, decimals: 0, significant: 0 });
  });
});

describe('field paths', () => {
  it('quotes only the segments that would be ambiguous', () => {
    expect(formatPath(['model_config', 'temperature'])).toBe('model_config.temperature');
    expect(formatPath(['model_config', 'a.b'])).toBe('model_config."a.b"');
    expect(formatPath(['m', 'x[0]', 'with space', '', 'tab\there'])).toBe('m."x[0]"."with space".""."tab\\there"');
    expect(formatPath(['tools', { entry: 'pubmed-search' }, 'usage'])).toBe('tools[pubmed-search].usage');
    expect(formatPath(['tools', { entry: 'a]b' }])).toBe('tools["a]b"]');
  });
});

import { describe, expect, it } from 'vitest';
import type { ColumnModel, KindModel } from '../../src/kinds/model.ts';
import { parseSqlType } from '../../src/kinds/sql-type.ts';
import { parseRegistryFile } from '../../src/load/parse.ts';
import { columnFitProblems } from '../../src/validate/column-fit.ts';

// Column types no bundled schema uses yet (timestamptz, bigint, a wide numeric, uuid, arrays): a kind
// with such columns, checked value by value.
const column = (property: string, type: string): ColumnModel => ({
  property,
  column: property,
  type: parseSqlType(type)!,
  required: false,
});
const model = {
  kind: 'Probe',
  columns: [
    column('at', 'timestamptz'),
    column('count', 'bigint'),
    column('small', 'integer'),
    column('wide', 'numeric(20,2)'),
    column('ref', 'uuid'),
    column('names', 'text[]'),
    column('day', 'date'),
  ],
  relations: [],
} as unknown as KindModel;

const problems = (yaml: string) => {
  const { documents, diagnostics } = parseRegistryFile('p.yaml', new TextEncoder().encode(`kind: Probe\n${yaml}`));
  expect(diagnostics).toEqual([]);
  return columnFitProblems(documents[0]!, model).map((d) => `${d.line}:${d.column} ${d.code}`);
};

describe('values the column refuses', () => {
  it('accepts what each column holds', () => {
    expect(
      problems(
        'at: 2024-02-29T23:59:59.123456+01:00\ncount: 9007199254740991\nsmall: -2147483648\n' +
          'wide: 123456789012.25\nref: 6F1C2A9E-3B7D-4C1E-9A2F-0D5E8B7C4A31\nnames: [a, b]\nday: 2000-02-29\n',
      ),
    ).toEqual([]);
  });

  it('refuses impossible timestamps, out-of-range integers, excess digits, bad uuids, null items, bad dates', () => {
    expect(
      problems(
        'at: 2023-02-29T10:00:00Z\ncount: 9223372036854775808\nsmall: 2147483648\nwide: 12345678901234.25\n' +
          'ref: urn:uuid:6f1c2a9e-3b7d-4c1e-9a2f-0d5e8b7c4a31\nnames: [a, null]\nday: 1900-02-29\n',
      ),
    ).toEqual([
      '2:5 CANON208',
      '3:8 CANON207',
      '4:8 CANON207',
      '5:7 CANON207',
      '6:6 CANON208',
      '7:12 CANON205',
      '8:6 CANON208',
    ]);
  });

  it('refuses a bigint that a double cannot carry, and more than 15 significant digits', () => {
    expect(problems('count: 9007199254740993\nwide: 123456789012345.25\n')).toEqual(['2:8 CANON207', '3:7 CANON207']);
  });
});

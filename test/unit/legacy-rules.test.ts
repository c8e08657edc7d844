import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conform } from '../../src/import/legacy/conform.ts';
import { slugify } from '../../src/import/legacy/expressions.ts';
import { loadMapping, resolveMappingFile } from '../../src/import/legacy/mapping.ts';
import { writeLegacyImport } from '../../src/import/legacy/write.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { defaultLimits } from '../../src/load/parse.ts';
import { tempDir } from '../support/temp.ts';

describe('legacy values made to fit the schema', () => {
  const authority = { type: 'string', enum: ['final', 'advisory', 'informational'] };
  const level = { type: 'string', enum: ['Low', 'Medium', 'High'] };

  it('matches enum values ignoring case, spaces and hyphens, and drops what matches none', () => {
    expect(conform(authority, 'final')).toEqual({ value: 'final' });
    expect(conform(authority, 'FINAL').value).toBe('final');
    expect(conform(level, 'medium').value).toBe('Medium');
    expect(conform({ type: 'string', enum: ['data_collection'] }, 'Data Collection').value).toBe('data_collection');
    const extreme = conform(level, 'Extreme');
    expect(extreme.value).toBeNull();
    expect(extreme.coercion).toMatch(/not one of Low, Medium, High/);
  });

  it('cuts long text, by characters not bytes', () => {
    const fitted = conform({ type: 'string', maxLength: 5 }, 'Ärzteverband');
    expect(fitted.value).toBe('Ärzte');
    expect(fitted.coercion).toMatch(/12 characters, cut to 5/);
  });

  it('fixes the shape of JSON where it can and drops it where it cannot', () => {
    expect(conform({ type: 'array' }, { title: 'x' })).toMatchObject({ value: [{ title: 'x' }] });
    expect(conform({ type: 'array' }, '[1, 2]')).toMatchObject({ value: [1, 2], coercion: 'JSON text parsed' });
    expect(conform({ type: 'object' }, 'gpt-4').value).toBeNull();
    expect(conform({ type: 'object' }, ['a']).coercion).toMatch(/expected an object, found a list/);
    expect(conform({ type: 'array', items: { type: 'string' } }, ['a', 3, '']).value).toEqual(['a']);
  });

  it('reads numbers, booleans, URLs and dates held as text, and nothing else', () => {
    expect(conform({ type: 'integer' }, '42').value).toBe(42);
    expect(conform({ type: 'integer' }, '4.5').value).toBeNull();
    expect(conform({ type: 'number', maximum: 1 }, '0.75').value).toBe(0.75);
    expect(conform({ type: 'number', maximum: 1 }, '4.5').value).toBeNull();
    expect(conform({ type: 'boolean' }, 't').value).toBe(true);
    expect(conform({ type: 'string', format: 'uri' }, 'not a url').value).toBeNull();
    expect(conform({ type: 'string', format: 'uri' }, 'javascript:alert(1)').value).toBeNull();
    expect(conform({ type: 'string', format: 'date' }, '2024-03-01T10:00:00Z').value).toBe('2024-03-01');
  });

  it('makes ids valid: lower case, other characters → -, at most 100', () => {
    expect(slugify('DH_12')).toBe('dh_12');
    expect(slugify('Safety Signal Scout')).toBe('safety-signal-scout');
    expect(slugify('  Café Über ')).toBe('cafe-uber');
    expect(slugify('---')).toBe('');
    expect(slugify('x'.repeat(150))).toHaveLength(100);
  });
});

describe('legacy mapping files', () => {
  it('ships the seed preset, which its own schema accepts', () => {
    const { mapping, diagnostics } = loadMapping(resolveMappingFile('seed')!, loadKindCatalog('schemas'));
    expect(diagnostics).toEqual([]);
    expect(mapping!.sources.some((s) => s.table === 'dh_personas')).toBe(true);
  });

  it('names a ref to a source the file does not have, at its line', () => {
    const file = join(tempDir('canon-legacy-mapping-'), 'm.yaml');
    writeFileSync(
      file,
      'format_version: 1\nname: m\nsources:\n  - table: t\n    kind: Agent\n    id: id\n' +
        '    fields:\n      parent: {ref: nowhere, from: parent_id}\n',
    );
    const { mapping, diagnostics } = loadMapping(file);
    expect(mapping).toBeUndefined();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]).toMatchObject({ code: 'CANON501', line: 8, file });
    expect(diagnostics[0]!.message).toMatch(/ref 'nowhere' is not a source of this mapping \(t\)/);
  });
});

describe('legacy mapping files against the schemas', () => {
  it('names an unknown kind, field, list and entry property at their lines, before any database is read', () => {
    const file = join(tempDir('canon-legacy-mapping-'), 'm.yaml');
    writeFileSync(
      file,
      [
        'format_version: 1',
        'name: m',
        'sources:',
        '  - table: a',
        '    kind: Agnet',
        '    id: id',
        '  - table: b',
        '    kind: Agent',
        '    id: id',
        '    fields:',
        '      nmae: name',
        '    relations:',
        '      toolz: [{tool: t}]',
        '      prompts:',
        '        - {prompt: p, colour: c}',
        '',
      ].join('\n'),
    );
    expect(loadMapping(file).diagnostics).toEqual([]); // without the schemas, only the file's own shape
    const { mapping, diagnostics } = loadMapping(file, loadKindCatalog('schemas'));
    expect(mapping).toBeUndefined();
    expect(diagnostics.map((d) => [d.code, d.line, d.column, d.message.split(' (')[0]])).toEqual([
      ['CANON501', 5, 11, "kind 'Agnet' is not one of the schemas' kinds"],
      ['CANON501', 11, 7, "'nmae' is not a field of Agent"],
      ['CANON501', 13, 7, "'toolz' is not a list of Agent"],
      ['CANON501', 15, 23, "'colour' is not a property of Agent prompts entries"],
    ]);
  });
});

describe('legacy import files', () => {
  it('splits a file that would pass half the loader limit, keeping every document once, in id order', () => {
    const dir = tempDir('canon-legacy-write-');
    const text = 'x'.repeat(2000);
    const ids = Array.from({ length: 600 }, (_, i) => `p-${String(i).padStart(4, '0')}`);
    const documents = ids.map((id) => ({
      file: 'platform/personas.yaml',
      id,
      value: { kind: 'Persona', id, name: id, description: text },
    }));
    const files = writeLegacyImport(dir, documents);
    expect(files.length).toBeGreaterThan(1);
    expect(files[0]).toBe('platform/personas.yaml');
    expect(files[1]).toBe('platform/personas.2.yaml');
    const seen: string[] = [];
    for (const f of files) {
      const bytes = readFileSync(join(dir, f));
      expect(bytes.length).toBeLessThan(defaultLimits.maxFileBytes);
      seen.push(...[...bytes.toString('utf8').matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!));
    }
    expect(seen).toEqual(ids);
  });
});

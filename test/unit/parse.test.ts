import { describe, expect, it } from 'vitest';
import { locate } from '../../src/load/document.ts';
import { defaultLimits, parseRegistryFile } from '../../src/load/parse.ts';

const bytes = (text: string) => new TextEncoder().encode(text);
const codesOf = (text: string) => parseRegistryFile('f.yaml', bytes(text)).diagnostics.map((d) => d.code);

describe('parseRegistryFile', () => {
  it('records positions of keys and values', () => {
    const { documents } = parseRegistryFile('f.yaml', bytes('kind: Agent\nid: a\nprompts:\n  - x\n  - {prompt: y}\n'));
    const doc = documents[0]!;
    expect(locate(doc, ['prompts', 1, 'prompt'])).toEqual({ file: 'f.yaml', line: 5, column: 14 });
    expect(locate(doc, ['prompts'], 'key')).toEqual({ file: 'f.yaml', line: 3, column: 1 });
    expect(locate(doc, ['prompts', 7, 'missing'])).toEqual({ file: 'f.yaml', line: 4, column: 3 });
  });

  it('keeps positions right with a byte-order mark and CRLF line ends', () => {
    const { documents } = parseRegistryFile('f.yaml', bytes('\ufeffkind: Agent\r\nid: a\r\nname: n\r\n'));
    expect(locate(documents[0]!, ['name'])).toEqual({ file: 'f.yaml', line: 3, column: 7 });
  });

  it('refuses hostile nesting without overflowing the stack', () => {
    expect(codesOf('a: ' + '['.repeat(50_000) + ']'.repeat(50_000))).toEqual(['CANON107']);
    expect(codesOf('- '.repeat(50_000) + 'x')).toEqual(['CANON107']);
    expect(codesOf(Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n'))).toEqual(['CANON107']);
  });

  it('does not count brackets inside quoted or block scalars as nesting', () => {
    expect(codesOf('kind: Prompt\ncontent: "' + '['.repeat(200) + '"\nother: |\n  ' + '{'.repeat(200) + '\n')).toEqual(
      [],
    );
  });

  it('accepts text that only looks nested: quoted, multi-line, block scalars with anchors and tags', () => {
    const documents = (body: string) => Array.from({ length: 70 }, (_, i) => `kind: Prompt\nid: p${i}\n${body}`);
    const valid = [
      documents('description: "a range [0, 100)"\n').join('---\n'),
      documents("description: 'a range [0, 100)'\n").join('---\n'),
      `content: |\n  ${'['.repeat(70)}\n`,
      `content: &a |\n  ${'['.repeat(70)}\n`,
      `content: !!str |\n  ${'['.repeat(70)}\n`,
      `content: &b !!str >-\n  ${'- '.repeat(70)}x\n`,
      `content: |\n  ${'- '.repeat(70)}x\n`,
      `content: "first line\n  ${'['.repeat(70)} second line"\n`,
      `items:\n  - "first\n    ${'['.repeat(70)}"\n`,
      `content: "${'{'.repeat(70)}"\r\nnext: |+\r\n  ${'- '.repeat(70)}\r\n\r\n`,
    ];
    for (const text of valid) {
      const parsed = parseRegistryFile('f.yaml', bytes(text));
      expect(parsed.diagnostics, text.slice(0, 60)).toEqual([]);
      expect(parsed.documents.length).toBeGreaterThan(0);
    }
  });

  it('still refuses deep nesting that follows a block scalar or a quoted scalar', () => {
    const deep = `${'['.repeat(70)}${']'.repeat(70)}`;
    expect(codesOf(`a: |\n  text\nb: ${deep}\n`)).toEqual(['CANON107']);
    expect(codesOf(`a: "x\n  [y"\nb: ${deep}\n`)).toEqual(['CANON107']);
    expect(
      codesOf(`a: &x !!str |\n  [[[\n${Array.from({ length: 70 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')}`),
    ).toEqual(['CANON107']);
  });

  it('reads integers beyond 2^53 exactly, as values and as keys', () => {
    const { documents } = parseRegistryFile(
      'f.yaml',
      bytes('a: 9007199254740993\nb: 0x20000000000001\nc: {9007199254740993: x}\nd: 9007199254740991\ne: 1e20\n'),
    );
    expect(documents[0]!.value).toEqual({
      a: 9007199254740993n,
      b: 9007199254740993n,
      c: { '9007199254740993': 'x' },
      d: 9007199254740991,
      e: 1e20,
    });
  });

  it('refuses a float with more significant digits than a double holds, and only those', () => {
    const text = 'a: 0.1\nb: 1.005\nc: 1.5e300\nd: .5\ne: 3.14159265358979323846\nf: {x: 0.10000000000000000555}\n';
    const { diagnostics } = parseRegistryFile('f.yaml', bytes(text));
    expect(diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`).sort()).toEqual(['5:4 CANON116', '6:8 CANON116']);
  });

  it('reports the position of the first invalid UTF-8 byte', () => {
    const { diagnostics } = parseRegistryFile('f.yaml', new Uint8Array([...bytes('a: 1\nbé: '), 0xc3, 0x28]));
    expect(diagnostics.map((d) => [d.code, d.line, d.column])).toEqual([['CANON103', 2, 5]]);
  });

  it('never leaves a prototype key in a value', () => {
    const result = parseRegistryFile('f.yaml', bytes('kind: Agent\nnested:\n  __proto__: {x: 1}\n'));
    expect(result.documents).toEqual([]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

it('parses with a plain copy of the environment and gives the real one back, also when parsing throws', () => {
  const real = process.env;
  let seen: NodeJS.ProcessEnv | undefined;
  const limits = {
    ...defaultLimits,
    get maxDepth(): number {
      seen = process.env;
      throw new Error('limits read mid-parse');
    },
  };
  expect(() => parseRegistryFile('f.yaml', new TextEncoder().encode('kind: Tool\n'), limits)).toThrow(
    'limits read mid-parse',
  );
  expect(seen).not.toBe(real);
  expect(seen).toEqual(real);
  expect(process.env).toBe(real);
});

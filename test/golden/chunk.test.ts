import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Chunk, chunkDocument } from '../../src/embed/chunk.ts';
import type { DocumentFormat } from '../../src/embed/formats.ts';
import { countTokens } from '../../src/embed/tokenizer.ts';

// One folder per case: input.* is a real document, case.json its format and chunk settings,
// expected.txt the chunks Canon makes of it. Review a changed expected.txt like code; regenerate
// with UPDATE_GOLDEN=1.
const casesDir = join(import.meta.dirname, 'chunk');

const render = (chunks: Chunk[]) =>
  chunks
    .map(
      (c) =>
        `=== #${c.index} tokens=${c.tokenCount} hash=${c.hash.slice(0, 12)} section=${JSON.stringify(c.sectionTitle)}\n${c.content}\n`,
    )
    .join('');

describe('chunker golden cases', () => {
  for (const name of readdirSync(casesDir).sort()) {
    const dir = join(casesDir, name);
    const settings = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) as {
      format: DocumentFormat;
      max_tokens: number;
      overlap: number;
    };
    const input = readFileSync(join(dir, readdirSync(dir).find((f) => f.startsWith('input.'))!), 'utf8');
    const chunks = chunkDocument(input, settings.format, { maxTokens: settings.max_tokens, overlap: settings.overlap });

    it(`${name}: chunks as expected.txt`, () => {
      const actual = render(chunks);
      const expectedFile = join(dir, 'expected.txt');
      if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, actual);
      expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
    });

    it(`${name}: every chunk within the token budget, counted by the real tokenizer`, () => {
      expect(chunks.length).toBeGreaterThan(1);
      for (const c of chunks) {
        expect(countTokens(c.content)).toBe(c.tokenCount);
        expect(c.tokenCount).toBeLessThanOrEqual(settings.max_tokens);
        expect(c.content.trim()).not.toBe('');
      }
    });

    it(`${name}: deterministic`, () => {
      expect(
        chunkDocument(input, settings.format, { maxTokens: settings.max_tokens, overlap: settings.overlap }),
      ).toEqual(chunks);
    });
  }
});

describe('chunker', () => {
  const doc = (paragraphs: string[]) => `# Guide\n\n${paragraphs.join('\n\n')}\n\n# Other\n\nUnrelated closing text.\n`;
  const paragraph = (i: number) =>
    `Paragraph ${i} explains step ${i} of the procedure in some detail. It has a second sentence too.`;

  it('an edit to one paragraph changes only the chunks near it, not the rest of the section', () => {
    const paragraphs = Array.from({ length: 60 }, (_, i) => paragraph(i));
    const settings = { maxTokens: 60, overlap: 0 };
    const before = chunkDocument(doc(paragraphs), 'markdown', settings);
    const hashes = new Set(before.map((c) => c.hash));
    const changedCounts = paragraphs.map((_, i) => {
      const edited = paragraphs.map((p, j) => (j === i ? `Paragraph ${i} now says something different, shorter.` : p));
      return chunkDocument(doc(edited), 'markdown', settings).filter((c) => !hashes.has(c.hash)).length;
    });
    expect(before.length).toBeGreaterThan(25);
    expect(Math.min(...changedCounts)).toBeGreaterThanOrEqual(1);
    // Greedy packing without anchors changed every chunk after the edit (16 for paragraph 30).
    expect(changedCounts.reduce((a, b) => a + b, 0) / changedCounts.length).toBeLessThanOrEqual(3);
    expect(Math.max(...changedCounts)).toBeLessThanOrEqual(6);
  });

  it('keeps no text from one section in another, and names each chunk’s section', () => {
    const chunks = chunkDocument('# A\n\nalpha text\n\n## B\n\nbeta text\n\n# C\n\ngamma text', 'markdown', {
      maxTokens: 50,
      overlap: 10,
    });
    expect(chunks.map((c) => [c.sectionTitle, c.content])).toEqual([
      ['A', 'alpha text'],
      ['A > B', 'beta text'],
      ['C', 'gamma text'],
    ]);
  });

  it('repeats the end of a chunk at the start of the next one in the same section (overlap)', () => {
    const text = Array.from({ length: 12 }, (_, i) => `Sentence number ${i} is here.`).join(' ');
    const chunks = chunkDocument(`${text}\n\n${text}`, 'text', { maxTokens: 70, overlap: 12 });
    expect(chunks.length).toBeGreaterThan(1);
    const lastSentence = chunks[0]!.content.split('. ').pop()!;
    expect(chunks[1]!.content.startsWith(lastSentence.replace(/\.$/, ''))).toBe(true);
  });

  it('rejects JSON that does not parse', () => {
    expect(() => chunkDocument('{"a": ', 'json')).toThrow(/not valid JSON/);
  });
});

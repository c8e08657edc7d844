import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/embed/chunk.ts';
import { cachedChunks } from '../../src/embed/chunk-cache.ts';
import { tempDir } from '../support/temp.ts';

describe('chunk cache', () => {
  it('returns exactly what the chunker makes, from the cache the second time, keyed by text and settings', () => {
    const dir = tempDir('canon-chunk-cache-');
    const text = '# A\n\nOne paragraph. Another sentence.\n\n# B\n\nMore text here.';
    const settings = { maxTokens: 16, overlap: 4 };
    const first = cachedChunks(dir, text, 'markdown', settings);
    expect(first).toEqual(chunkDocument(text, 'markdown', settings));
    expect(readdirSync(join(dir, 'chunks'))).toHaveLength(1);
    expect(cachedChunks(dir, text, 'markdown', settings)).toEqual(first);
    cachedChunks(dir, text, 'markdown', { maxTokens: 32, overlap: 4 });
    cachedChunks(dir, `${text} Edited.`, 'markdown', settings);
    const files = readdirSync(join(dir, 'chunks')).flatMap((d) => readdirSync(join(dir, 'chunks', d)));
    expect(files).toHaveLength(3);
  });
});

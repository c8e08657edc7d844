import { mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDocument } from '../../src/embed/chunk.ts';
import { cachedChunks } from '../../src/embed/chunk-cache.ts';
import { loadRegistry } from '../../src/load/load.ts';
import { tempDir } from '../support/temp.ts';

/** Entries in the cache's shards, by kind of entry. */
function entries(cacheDir: string) {
  const all = readdirSync(cacheDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^[0-9a-f]{2}$/.test(d.name))
    .flatMap((d) => readdirSync(join(cacheDir, d.name)).map((name) => join(d.name, name)));
  return {
    chunks: all.filter((e) => e.endsWith('.chunks.json')),
    other: all.filter((e) => !e.endsWith('.chunks.json')),
  };
}

describe('chunk cache', () => {
  const settings = { maxTokens: 16, overlap: 4 };

  it('returns exactly what the chunker makes, from the cache the second time, keyed by text and settings', () => {
    const dir = tempDir('canon-chunk-cache-');
    const text = '# A\n\nOne paragraph. Another sentence.\n\n# B\n\nMore text here.';
    const first = cachedChunks(dir, text, 'markdown', settings);
    expect(first).toEqual(chunkDocument(text, 'markdown', settings));
    expect(entries(dir).chunks).toHaveLength(1);
    expect(cachedChunks(dir, text, 'markdown', settings)).toEqual(first);
    cachedChunks(dir, text, 'markdown', { maxTokens: 32, overlap: 4 });
    cachedChunks(dir, `${text} Edited.`, 'markdown', settings);
    expect(entries(dir).chunks).toHaveLength(3);
  });

  it("is pruned with the parse cache when it passes the bound, and an older Canon's chunks/ folder goes", () => {
    const cacheDir = tempDir('canon-chunk-cache-');
    for (let i = 0; i < 20; i++) cachedChunks(cacheDir, `# Text ${i}\n\nSome words ${i}.`, 'markdown', settings);
    const legacy = join(cacheDir, 'chunks', 'ab');
    mkdirSync(legacy, { recursive: true });
    writeFileSync(join(legacy, 'old.json'), '[]');
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const entry of entries(cacheDir).chunks) utimesSync(join(cacheDir, entry), hourAgo, hourAgo);
    expect(entries(cacheDir).chunks).toHaveLength(20);
    loadRegistry('registry', { cacheDir, cacheMaxBytes: 1 });
    expect(entries(cacheDir).chunks).toEqual([]);
    expect(entries(cacheDir).other.length).toBeGreaterThan(0);
    expect(readdirSync(cacheDir)).not.toContain('chunks');
  });
});

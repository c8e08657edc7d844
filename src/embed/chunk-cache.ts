import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeEntry } from '../load/cache.ts';
import { type Chunk, type ChunkSettings, chunkDocument, chunkerVersion } from './chunk.ts';
import type { DocumentFormat } from './formats.ts';

/**
 * Chunks of a text, from the CLI's cache when this exact text was chunked before with these settings
 * by this chunker: a plan of an unchanged registry then never builds the tokenizer (about a second).
 * `cacheDir` is the parse cache's folder (ParseCache), which prunes these entries with its own.
 */
export function cachedChunks(
  cacheDir: string | undefined,
  text: string,
  format: DocumentFormat,
  settings: ChunkSettings,
): Chunk[] {
  if (!cacheDir) return chunkDocument(text, format, settings);
  const key = createHash('sha256')
    .update(`${chunkerVersion}\n${format}\n${settings.maxTokens}/${settings.overlap}\n`)
    .update(text)
    .digest('hex');
  // In the parse cache's own shards, so its bound and its pruning cover chunks too.
  const path = join(cacheDir, key.slice(0, 2), `${key}.chunks.json`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Chunk[];
  } catch {
    const chunks = chunkDocument(text, format, settings);
    // A cache that cannot be written only costs time.
    writeEntry(path, JSON.stringify(chunks));
    return chunks;
  }
}

import { parentPort } from 'node:worker_threads';
import { storeEntry } from './cache.ts';
import { type ParsedFile, type ParseLimits, parseRegistryFile } from './parse.ts';

/** One batch of files for a parse worker (src/load/parallel.ts). */
export interface ParseBatch {
  /** `entry`: where the parse cache keeps this file's result, written here, off the calling thread. */
  files: { file: string; bytes: Uint8Array; entry?: string | undefined }[];
  limits: ParseLimits;
}

/** The answer: the batch's results in order, and the bytes each cache entry took (0: none written). */
export interface ParsedBatch {
  parsed: ParsedFile[];
  stored: number[];
}

// The yaml parser reads process.env.LOG_TOKENS for every lexeme, and the real environment costs a
// lookup each time (about 0.3 µs: a tenth of parsing). A worker's environment is its own copy, so a
// plain object here changes nothing anyone else sees.
process.env = { ...process.env };

parentPort!.on('message', ({ files, limits }: ParseBatch) => {
  const parsed = files.map(({ file, bytes }) => parseRegistryFile(file, bytes, limits));
  const stored = parsed.map((p, i) => (files[i]!.entry ? storeEntry(files[i]!.entry!, p) : 0));
  parentPort!.postMessage({ parsed, stored } satisfies ParsedBatch);
});

import { parentPort } from 'node:worker_threads';
import { type ParseLimits, parseRegistryFile } from './parse.ts';

/** One batch of files for a parse worker (src/load/parallel.ts); the answer is their ParsedFiles in order. */
export interface ParseBatch {
  files: { file: string; bytes: Uint8Array }[];
  limits: ParseLimits;
}

// The yaml parser reads process.env.LOG_TOKENS for every lexeme, and the real environment costs a
// lookup each time (about 0.3 µs: a tenth of parsing). A worker's environment is its own copy, so a
// plain object here changes nothing anyone else sees.
process.env = { ...process.env };

parentPort!.on('message', ({ files, limits }: ParseBatch) => {
  parentPort!.postMessage(files.map(({ file, bytes }) => parseRegistryFile(file, bytes, limits)));
});

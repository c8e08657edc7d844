import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ParsedFile, type ParseLimits, parseRegistryFile } from './parse.ts';
import type { ParseBatch } from './parse-worker.ts';

export interface ParseJob {
  file: string;
  bytes: Uint8Array;
}

export interface ParallelOptions {
  /** How many worker threads at most. */
  threads: number;
  /** The worker to start (default: defaultWorkerScript()). */
  worker?: WorkerSpec;
  /** Told when a worker could not start or died; its files were parsed on this thread instead. */
  onWorkerError?: (e: Error) => void;
}

/**
 * Files are handed out in batches of about this many bytes, as workers ask for more: small enough that
 * a worker slowed by other processes on the machine does not hold up the end, large enough that the
 * round trips (under 0.1 ms each) do not count.
 */
const batchBytes = 256 * 1024;

/** How to start a parse worker: a script's URL, or (eval) the code of one. */
export interface WorkerSpec {
  script: URL | string;
  eval?: boolean;
}

/**
 * The worker script next to this module: compiled JavaScript in dist/; from the TypeScript sources (the
 * tests), parse-worker.ts behind tsx's require hook, since Node 20 applies no `--import` loader hooks in
 * worker threads. Undefined when neither can run.
 */
export function defaultWorkerScript(): WorkerSpec | undefined {
  const js = new URL('./parse-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(js))) return { script: js };
  const ts = fileURLToPath(new URL('./parse-worker.ts', import.meta.url));
  if (!existsSync(ts)) return undefined;
  let tsx: string;
  try {
    tsx = createRequire(import.meta.url).resolve('tsx/cjs/api'); // a devDependency
  } catch {
    return undefined;
  }
  return { script: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(ts)});`, eval: true };
}

/**
 * Parses `jobs` on up to `threads` worker threads; the results are those of `parseRegistryFile` on
 * this thread, in the order of `jobs` (structured clone keeps bigints, NaN, -0 and values an alias
 * shares). `onResult` is called on this thread as each file's result arrives (the parse cache stores it
 * there). A worker that cannot start, throws or exits early costs speed only: its unfinished batch is
 * parsed here, and when no worker is left, so is the rest.
 */
export function parseInWorkers(
  jobs: readonly ParseJob[],
  limits: ParseLimits,
  options: ParallelOptions,
  onResult: (index: number, parsed: ParsedFile) => void = () => {},
): Promise<ParsedFile[]> {
  const results: ParsedFile[] = new Array(jobs.length);
  const done = (index: number, parsed: ParsedFile) => {
    results[index] = parsed;
    onResult(index, parsed);
  };
  const parseHere = (batch: readonly number[]) => {
    for (const i of batch) done(i, parseRegistryFile(jobs[i]!.file, jobs[i]!.bytes, limits));
  };
  const queue = batchesOf(jobs);
  const found = options.worker ?? defaultWorkerScript();
  const count = Math.min(options.threads, queue.length);
  if (!found || count === 0) {
    if (!found) options.onWorkerError?.(new Error('no parse worker script next to src/load/parallel'));
    for (const batch of queue.splice(0)) parseHere(batch);
    return Promise.resolve(results);
  }
  return new Promise((resolve) => {
    let live = count;
    const retire = () => {
      if (--live > 0) return;
      for (const batch of queue.splice(0)) parseHere(batch);
      resolve(results);
    };
    for (let n = 0; n < count; n++) {
      let worker: Worker;
      try {
        worker = new Worker(found.script, {
          eval: found.eval ?? false,
          // Its output would interleave with the CLI's; a crash is reported through onWorkerError.
          stdout: true,
          stderr: true,
        });
      } catch (e) {
        options.onWorkerError?.(e as Error);
        retire();
        continue;
      }
      let current: number[] | undefined;
      let gone = false;
      const feed = () => {
        current = queue.shift();
        if (current) {
          const files = current.map((i) => ({ file: jobs[i]!.file, bytes: jobs[i]!.bytes }));
          worker.postMessage({ files, limits } satisfies ParseBatch);
          return;
        }
        gone = true;
        void worker.terminate();
        retire();
      };
      const fail = (e: Error) => {
        if (gone) return;
        gone = true;
        options.onWorkerError?.(e);
        void worker.terminate();
        if (current) parseHere(current);
        current = undefined;
        retire();
      };
      worker.on('message', (parsed: ParsedFile[]) => {
        if (!current || parsed.length !== current.length) {
          fail(new Error('a parse worker answered with something else than its batch'));
          return;
        }
        current.forEach((index, k) => done(index, parsed[k]!));
        feed();
      });
      worker.on('error', fail);
      worker.on('messageerror', fail);
      worker.on('exit', (code) => fail(new Error(`a parse worker exited with code ${code} before it was done`)));
      feed();
    }
  });
}

/** Consecutive runs of job indexes of about batchBytes each (at least one file). */
function batchesOf(jobs: readonly ParseJob[]): number[][] {
  const batches: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  jobs.forEach((job, i) => {
    batch.push(i);
    bytes += job.bytes.length;
    if (bytes >= batchBytes) {
      batches.push(batch);
      batch = [];
      bytes = 0;
    }
  });
  if (batch.length > 0) batches.push(batch);
  return batches;
}

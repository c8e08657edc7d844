import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { type ParsedFile, type ParseLimits, parseRegistryFile } from './parse.ts';
import type { ParseBatch, ParsedBatch } from './parse-worker.ts';

export interface ParseJob {
  file: string;
  bytes: Uint8Array;
  /** The parse cache's entry for the file: a worker that parses it writes the entry too. */
  entry?: string | undefined;
}

export interface ParallelOptions {
  /** How many threads parse, this one included (so threads - 1 workers). */
  threads: number;
  /** The worker to start (default: defaultWorkerScript()). */
  worker?: WorkerSpec;
  /** Told when a worker could not start or died; its files were parsed on this thread instead. */
  onWorkerError?: (e: Error) => void;
  /**
   * A worker that answers nothing for this long while it holds batches is taken for hung: it is
   * stopped and its batches are parsed here (default 60 s; a batch takes well under a second).
   */
  silenceMs?: number;
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
 * Parses `jobs` on `threads` threads: this one and `threads - 1` workers (each new thread's first
 * files run before V8 has optimized the parser, about 0.8 s of CPU per thread, so this thread, idle
 * otherwise, takes a share). The results are those of `parseRegistryFile` on this thread, in the
 * order of `jobs` (structured clone keeps bigints, NaN, -0 and values an alias shares). `onResult` is
 * called on this thread as each file's result arrives, with the bytes its cache entry took when a
 * worker wrote it (a job with an `entry`), or undefined when this thread parsed it (and the caller
 * stores it). A worker that cannot start, throws or exits early costs speed only: its unfinished
 * batches are parsed here.
 */
export async function parseInWorkers(
  jobs: readonly ParseJob[],
  limits: ParseLimits,
  options: ParallelOptions,
  onResult: (index: number, parsed: ParsedFile, stored: number | undefined) => void = () => {},
): Promise<ParsedFile[]> {
  const results: ParsedFile[] = new Array(jobs.length);
  const parseHere = (batch: readonly number[]) => {
    for (const i of batch) {
      results[i] = parseRegistryFile(jobs[i]!.file, jobs[i]!.bytes, limits);
      onResult(i, results[i], undefined);
    }
  };
  const queue = batchesOf(jobs);
  const found = options.worker ?? defaultWorkerScript();
  if (!found) options.onWorkerError?.(new Error('no parse worker script next to src/load/parallel'));
  const count = found ? Math.min(options.threads - 1, queue.length - 1) : 0;
  const workers: Promise<number[][]>[] = [];
  for (let n = 0; n < count; n++) workers.push(runWorker(found!, jobs, limits, queue, results, onResult, options));
  // This thread's share, one batch at a time so that workers' answers are taken in between.
  while (queue.length > 0) {
    parseHere(queue.shift()!);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const leftOver = await Promise.all(workers);
  for (const batches of leftOver) for (const batch of batches) parseHere(batch);
  return results;
}

/**
 * One worker taking batches from `queue` until it is empty, two at a time so that it never waits for
 * this thread to hand it the next; resolves with the batches it failed to parse (none unless it died).
 */
function runWorker(
  spec: WorkerSpec,
  jobs: readonly ParseJob[],
  limits: ParseLimits,
  queue: number[][],
  results: ParsedFile[],
  onResult: (index: number, parsed: ParsedFile, stored: number | undefined) => void,
  options: ParallelOptions,
): Promise<number[][]> {
  return new Promise((resolve) => {
    let worker: Worker;
    try {
      // Its output would interleave with the CLI's; a crash is reported through onWorkerError.
      worker = new Worker(spec.script, { eval: spec.eval ?? false, stdout: true, stderr: true });
    } catch (e) {
      options.onWorkerError?.(e as Error);
      resolve([]);
      return;
    }
    const inFlight: number[][] = [];
    let gone = false;
    let silence: NodeJS.Timeout | undefined;
    const finish = (unparsed: number[][]) => {
      gone = true;
      clearTimeout(silence);
      void worker.terminate();
      resolve(unparsed);
    };
    const silenceMs = options.silenceMs ?? 60_000;
    const listen = () => {
      clearTimeout(silence);
      if (gone || inFlight.length === 0) return;
      silence = setTimeout(() => fail(new Error(`a parse worker answered nothing for ${silenceMs} ms`)), silenceMs);
    };
    const feed = () => {
      while (inFlight.length < 2 && queue.length > 0) {
        const batch = queue.shift()!;
        inFlight.push(batch);
        const files = batch.map((i) => ({ file: jobs[i]!.file, bytes: jobs[i]!.bytes, entry: jobs[i]!.entry }));
        worker.postMessage({ files, limits } satisfies ParseBatch);
      }
      if (inFlight.length === 0) finish([]);
    };
    const fail = (e: Error) => {
      if (gone) return;
      options.onWorkerError?.(e);
      finish(inFlight.splice(0));
    };
    worker.on('message', ({ parsed, stored }: ParsedBatch) => {
      const batch = inFlight[0];
      if (!batch || parsed?.length !== batch.length || stored?.length !== batch.length) {
        fail(new Error('a parse worker answered with something else than its batch'));
        return;
      }
      inFlight.shift();
      batch.forEach((index, k) => {
        results[index] = parsed[k]!;
        onResult(index, parsed[k]!, jobs[index]!.entry ? stored[k]! : undefined);
      });
      feed();
      listen();
    });
    worker.on('error', fail);
    worker.on('messageerror', fail);
    worker.on('exit', (code) => fail(new Error(`a parse worker exited with code ${code} before it was done`)));
    feed();
    listen();
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

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { DatabasePool } from 'slonik';
import { embeddingInput } from './chunk.ts';
import { type EmbeddingProvider, ProviderError } from './provider.ts';
import {
  claimBatch,
  completeJobs,
  type LeasedJob,
  nextClaimableIn,
  pruneDoneJobs,
  releaseJobs,
  retryOrFail,
} from './queue.ts';

export interface WorkerOptions {
  provider: EmbeddingProvider;
  /** Parallel batches in this process (each its own lease; the provider call is what runs in parallel). */
  concurrency: number;
  maxInputs: number;
  maxTokens: number;
  maxAttempts: number;
  leaseMs: number;
  /** First retry delay; doubled per attempt, with jitter, capped by maxBackoffMs. */
  backoffMs: number;
  maxBackoffMs: number;
  /** Keep serving after the queue is empty, polling every pollMs. */
  watch: boolean;
  pollMs: number;
  /** Done jobs older than this (default 7 days) are removed when the queue is found empty (hourly at most). */
  keepDoneMs?: number;
  /** Told after every batch, for progress. */
  onProgress?: (stats: WorkerStats) => void;
  /** Aborting stops the worker after its current batches; their results are still written. */
  signal?: AbortSignal;
}

export interface WorkerStats {
  embedded: number;
  tokens: number;
  providerCalls: number;
  retried: number;
  failed: number;
  /** Results discarded because their chunk changed while they were embedded. */
  stale: number;
  /** Done jobs older than keepDoneMs removed from the queue table. */
  pruned: number;
}

/** The configuration is wrong for every job (key refused, wrong dimension): the worker stopped. */
export class WorkerStoppedError extends Error {}

/** Exponential backoff with jitter (half to all of the step), at least what Retry-After asked for. */
export function backoffDelay(
  attempt: number,
  base: number,
  cap: number,
  retryAfterMs?: number,
  random = Math.random,
): number {
  const step = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.max(retryAfterMs ?? 0, step * (0.5 + random() * 0.5));
}

const pruneEveryMs = 3_600_000;
export const defaultKeepDoneMs = 7 * 24 * 3_600_000;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

/**
 * `canon embed`: drains the queue (or serves it, with `watch`). Per batch: lease (a committed
 * transaction), call the provider outside any transaction, then write the vectors in a short
 * transaction that keeps only results whose chunk is unchanged. Failures back off per job; inputs the
 * provider refuses are found by splitting the batch, so one bad chunk never fails its neighbours.
 */
export async function runWorker(pool: DatabasePool, options: WorkerOptions): Promise<WorkerStats> {
  const worker = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const { provider } = options;
  const target = { model: provider.model, dimensions: provider.dimensions };
  const stats: WorkerStats = {
    embedded: 0,
    tokens: 0,
    providerCalls: 0,
    retried: 0,
    failed: 0,
    stale: 0,
    pruned: 0,
  };
  let prunedAt = Number.NEGATIVE_INFINITY;
  const pruneWhenDue = async () => {
    if (performance.now() - prunedAt < pruneEveryMs) return;
    prunedAt = performance.now();
    stats.pruned += await pruneDoneJobs(pool, options.keepDoneMs ?? defaultKeepDoneMs);
  };
  let fatal: Error | undefined;
  const stopped = () => fatal !== undefined || options.signal?.aborted === true;

  const embedBatch = async (batch: LeasedJob[]): Promise<void> => {
    stats.providerCalls++;
    let vectors: (number[] | undefined)[];
    try {
      vectors = await provider.embed(batch.map(embeddingInput));
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      if (e.handling === 'fatal') {
        fatal ??= e;
        await releaseJobs(pool, batch);
        return;
      }
      if (e.handling === 'input' && batch.length > 1) {
        const half = Math.ceil(batch.length / 2);
        await embedBatch(batch.slice(0, half));
        await embedBatch(batch.slice(half));
        return;
      }
      const permanent = e.handling === 'input';
      const failures = batch.map((job) => ({
        job,
        error: e.message,
        permanent,
        delayMs: backoffDelay(job.attempts, options.backoffMs, options.maxBackoffMs, e.retryAfterMs),
      }));
      await retryOrFail(pool, options.maxAttempts, failures);
      for (const f of failures) {
        if (f.permanent || f.job.attempts >= options.maxAttempts) stats.failed++;
        else stats.retried++;
      }
      return;
    }
    const results = batch.flatMap((job, i) => (vectors[i] ? [{ job, vector: vectors[i] }] : []));
    const missing = batch.filter((_, i) => !vectors[i]);
    const written = await completeJobs(pool, target, results);
    stats.embedded += written;
    stats.stale += results.length - written;
    stats.tokens += results.reduce((n, r) => n + r.job.tokenCount, 0);
    if (missing.length > 0) {
      const error = `${provider.label} answered without an embedding for this input (a short batch)`;
      await retryOrFail(
        pool,
        options.maxAttempts,
        missing.map((job) => ({
          job,
          error,
          delayMs: backoffDelay(job.attempts, options.backoffMs, options.maxBackoffMs),
        })),
      );
      for (const job of missing) {
        if (job.attempts >= options.maxAttempts) stats.failed++;
        else stats.retried++;
      }
    }
  };

  const slot = async () => {
    while (!stopped()) {
      const batch = await claimBatch(pool, {
        ...target,
        worker,
        maxInputs: options.maxInputs,
        maxTokens: options.maxTokens,
        leaseMs: options.leaseMs,
        maxAttempts: options.maxAttempts,
      });
      if (batch.length > 0) {
        await embedBatch(batch);
        options.onProgress?.({ ...stats });
        continue;
      }
      await pruneWhenDue();
      const wait = await nextClaimableIn(pool, target);
      if (wait === undefined && !options.watch) return;
      await sleep(Math.min(wait ?? options.pollMs, options.pollMs) + 5, options.signal);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, slot));
  if (fatal) throw new WorkerStoppedError(fatal.message);
  return stats;
}

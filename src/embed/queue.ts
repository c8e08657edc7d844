import type { CommonQueryMethods, DatabasePool } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';

export const jobsTable = 'canon_embedding_jobs';
const jobs = sql.identifier([jobsTable]);

/** What the worker embeds with: jobs of another model or dimension are not its to take. */
export interface QueueTarget {
  model: string;
  dimensions: number;
}

export interface ClaimOptions extends QueueTarget {
  worker: string;
  maxInputs: number;
  maxTokens: number;
  leaseMs: number;
  maxAttempts: number;
}

/** A leased job with the text to embed. */
export interface LeasedJob {
  id: string;
  chunkTable: string;
  chunkId: string;
  contentHash: string;
  tokenCount: number;
  attempts: number;
  content: string;
  sectionTitle: string | null;
}

const candidate = z.object({
  id: z.string(),
  chunk_table: z.string(),
  chunk_id: z.string(),
  content_hash: z.string(),
  token_count: z.number(),
  attempts: z.number(),
});
const chunkText = z.object({
  id: z.string(),
  content: z.string(),
  section_title: z.string().nullable(),
  content_hash: z.string(),
});

/**
 * Leases the next batch, in one short transaction (no network inside): jobs whose lease expired too
 * often fail; then as many claimable jobs as fit `maxInputs` and `maxTokens` (at least one) are
 * locked with SKIP LOCKED, so concurrent workers never take the same job, and leased. Jobs whose
 * chunk is gone or holds other text by now are dropped: they are stale.
 */
export async function claimBatch(pool: DatabasePool, o: ClaimOptions): Promise<LeasedJob[]> {
  return pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`
      UPDATE ${jobs} SET state = 'failed', finished_at = now(), leased_until = NULL,
        last_error = 'its lease expired ' || attempts || ' times (a worker stopped or hung while embedding it)'
      WHERE state = 'leased' AND leased_until < now() AND attempts >= ${o.maxAttempts}
        AND model = ${o.model} AND dimensions = ${o.dimensions}`);
    let live: z.infer<typeof candidate>[] = [];
    const texts = new Map<string, z.infer<typeof chunkText>>();
    // Stale jobs are dropped and the next ones tried, within this transaction.
    while (live.length === 0) {
      // Expired leases first (rare), then queued jobs in order, through the (state, run_after) index.
      const expired = await tx.any(sql.type(candidate)`
        SELECT id, chunk_table, chunk_id, content_hash, token_count, attempts FROM ${jobs}
        WHERE state = 'leased' AND leased_until < now() AND model = ${o.model} AND dimensions = ${o.dimensions}
        LIMIT ${o.maxInputs}
        FOR UPDATE SKIP LOCKED`);
      const queued =
        expired.length >= o.maxInputs
          ? []
          : await tx.any(sql.type(candidate)`
        SELECT id, chunk_table, chunk_id, content_hash, token_count, attempts FROM ${jobs}
        WHERE state = 'queued' AND run_after <= now() AND model = ${o.model} AND dimensions = ${o.dimensions}
        ORDER BY run_after
        LIMIT ${o.maxInputs - expired.length}
        FOR UPDATE SKIP LOCKED`);
      const found = [...expired, ...queued];
      if (found.length === 0) return [];
      const picked: z.infer<typeof candidate>[] = [];
      let tokens = 0;
      for (const job of found) {
        if (picked.length > 0 && tokens + job.token_count > o.maxTokens) break;
        picked.push(job);
        tokens += job.token_count;
      }
      for (const table of new Set(picked.map((j) => j.chunk_table))) {
        const ids = picked.filter((j) => j.chunk_table === table).map((j) => j.chunk_id);
        const rows = await tx.any(sql.type(chunkText)`
          SELECT id, content, section_title, content_hash FROM ${sql.identifier([table])}
          WHERE id = ANY(${sql.array(ids, 'uuid')})`);
        for (const row of rows) texts.set(`${table}/${row.id}`, row);
      }
      live = picked.filter((j) => texts.get(`${j.chunk_table}/${j.chunk_id}`)?.content_hash === j.content_hash);
      const stale = picked.filter((j) => !live.includes(j)).map((j) => j.id);
      if (stale.length > 0) await tx.query(sql.unsafe`DELETE FROM ${jobs} WHERE id = ANY(${sql.array(stale, 'uuid')})`);
    }
    await tx.query(sql.unsafe`
      UPDATE ${jobs} SET state = 'leased', attempts = attempts + 1, leased_by = ${o.worker},
        leased_until = now() + make_interval(secs => ${o.leaseMs / 1000})
      WHERE id = ANY(${sql.array(
        live.map((j) => j.id),
        'uuid',
      )})`);
    return live.map((j) => {
      const text = texts.get(`${j.chunk_table}/${j.chunk_id}`)!;
      return {
        id: j.id,
        chunkTable: j.chunk_table,
        chunkId: j.chunk_id,
        contentHash: j.content_hash,
        tokenCount: j.token_count,
        attempts: j.attempts + 1,
        content: text.content,
        sectionTitle: text.section_title,
      };
    });
  });
}

/**
 * Writes vectors in one short transaction, only where the chunk still holds the text that was
 * embedded (an apply may have changed it meanwhile: that result is discarded, and its job with it).
 * Returns how many vectors were written.
 */
export async function completeJobs(
  pool: DatabasePool,
  target: QueueTarget,
  results: { job: LeasedJob; vector: number[] }[],
): Promise<number> {
  if (results.length === 0) return 0;
  return pool.transaction(async (tx) => {
    const written = new Set<string>();
    for (const table of new Set(results.map((r) => r.job.chunkTable))) {
      const rows = results
        .filter((r) => r.job.chunkTable === table)
        .map((r) => ({ id: r.job.chunkId, content_hash: r.job.contentHash, embedding: `[${r.vector.join(',')}]` }));
      const ids = await tx.anyFirst(sql.type(z.object({ id: z.string() }))`
        UPDATE ${sql.identifier([table])} AS c SET embedding = x.embedding::vector, embedding_model = ${target.model}
        FROM json_to_recordset(${sql.json(rows)}) AS x(id uuid, content_hash text, embedding text)
        WHERE c.id = x.id AND c.content_hash = x.content_hash
        RETURNING c.id`);
      for (const id of ids) written.add(`${table}/${id}`);
    }
    const done = results.filter((r) => written.has(`${r.job.chunkTable}/${r.job.chunkId}`)).map((r) => r.job.id);
    const stale = results.filter((r) => !written.has(`${r.job.chunkTable}/${r.job.chunkId}`)).map((r) => r.job.id);
    if (done.length > 0) {
      await tx.query(sql.unsafe`
        UPDATE ${jobs} SET state = 'done', finished_at = now(), leased_until = NULL, last_error = NULL
        WHERE id = ANY(${sql.array(done, 'uuid')})`);
    }
    if (stale.length > 0) await tx.query(sql.unsafe`DELETE FROM ${jobs} WHERE id = ANY(${sql.array(stale, 'uuid')})`);
    return done.length;
  });
}

/**
 * A failed attempt: back to the queue after `delayMs`, or failed for good (attempts used up, or
 * `permanent`), keeping the error for `canon embed --status`.
 */
export async function retryOrFail(
  pool: CommonQueryMethods,
  maxAttempts: number,
  failures: { job: LeasedJob; delayMs: number; error: string; permanent?: boolean }[],
): Promise<void> {
  if (failures.length === 0) return;
  const rows = failures.map((f) => ({
    id: f.job.id,
    delay_ms: Math.round(f.delayMs),
    error: f.error.slice(0, 2000),
    permanent: f.permanent ?? false,
  }));
  await pool.query(sql.unsafe`
    UPDATE ${jobs} AS j SET
      state = CASE WHEN x.permanent OR j.attempts >= ${maxAttempts} THEN 'failed' ELSE 'queued' END,
      finished_at = CASE WHEN x.permanent OR j.attempts >= ${maxAttempts} THEN now() END,
      run_after = now() + make_interval(secs => x.delay_ms / 1000.0),
      last_error = x.error, leased_until = NULL
    FROM json_to_recordset(${sql.json(rows)}) AS x(id uuid, delay_ms integer, error text, permanent boolean)
    WHERE j.id = x.id`);
}

/** Gives leases back without counting the attempt (the worker is stopping, or its configuration is wrong). */
export async function releaseJobs(pool: CommonQueryMethods, leased: LeasedJob[]): Promise<void> {
  if (leased.length === 0) return;
  await pool.query(sql.unsafe`
    UPDATE ${jobs} SET state = 'queued', attempts = greatest(attempts - 1, 0), leased_until = NULL, run_after = now()
    WHERE id = ANY(${sql.array(
      leased.map((j) => j.id),
      'uuid',
    )}) AND state = 'leased'`);
}

/**
 * Whether a draining worker should wait (jobs are backing off) or stop: jobs other workers hold under a
 * live lease are theirs, and a lease that expires later is taken by whichever worker runs then.
 */
export async function nextClaimableIn(pool: CommonQueryMethods, target: QueueTarget): Promise<number | undefined> {
  const ms = await pool.maybeOneFirst(sql.type(z.object({ ms: z.number().nullable() }))`
    SELECT (extract(epoch FROM min(CASE WHEN state = 'queued' THEN run_after ELSE now() END) - now()) * 1000)::float8
      AS ms
    FROM ${jobs}
    WHERE model = ${target.model} AND dimensions = ${target.dimensions}
      AND (state = 'queued' OR (state = 'leased' AND leased_until < now()))`);
  return ms === null || ms === undefined ? undefined : Math.max(0, ms);
}

export interface QueueStatus {
  queued: number;
  leased: number;
  failed: number;
  done: number;
  /** Age of the oldest job not yet done or failed, in seconds (null when there is none). */
  oldestPendingSeconds: number | null;
  /** The latest failures, with their errors. */
  failures: { chunkTable: string; chunkId: string; attempts: number; error: string | null }[];
  /** Jobs of other models or dimensions than the configured ones (left by an earlier configuration). */
  otherTargets: number;
}

const statusRow = z.object({ state: z.string(), n: z.number(), oldest: z.number().nullable(), current: z.boolean() });

export async function queueStatus(pool: CommonQueryMethods, target: QueueTarget): Promise<QueueStatus> {
  const rows = await pool.any(sql.type(statusRow)`
    SELECT CASE WHEN state = 'leased' AND leased_until < now() THEN 'queued' ELSE state END AS state,
      count(*)::int AS n,
      extract(epoch FROM now() - min(enqueued_at))::float8 AS oldest,
      (model = ${target.model} AND dimensions = ${target.dimensions}) AS current
    FROM ${jobs} GROUP BY 1, 4`);
  const mine = rows.filter((r) => r.current);
  const count = (state: string) => mine.filter((r) => r.state === state).reduce((n, r) => n + r.n, 0);
  const pending = mine.filter((r) => r.state === 'queued' || r.state === 'leased').map((r) => r.oldest ?? 0);
  const failures = await pool.any(sql.type(
    z.object({
      chunk_table: z.string(),
      chunk_id: z.string(),
      attempts: z.number(),
      last_error: z.string().nullable(),
    }),
  )`
    SELECT chunk_table, chunk_id, attempts, last_error FROM ${jobs}
    WHERE state = 'failed' AND model = ${target.model} AND dimensions = ${target.dimensions}
    ORDER BY finished_at DESC NULLS LAST, id LIMIT 10`);
  return {
    queued: count('queued'),
    leased: count('leased'),
    failed: count('failed'),
    done: count('done'),
    oldestPendingSeconds: pending.length > 0 ? Math.round(Math.max(...pending)) : null,
    failures: failures.map((f) => ({
      chunkTable: f.chunk_table,
      chunkId: f.chunk_id,
      attempts: f.attempts,
      error: f.last_error,
    })),
    otherTargets: rows
      .filter((r) => !r.current && (r.state === 'queued' || r.state === 'leased'))
      .reduce((n, r) => n + r.n, 0),
  };
}

/**
 * Removes jobs finished (done) longer ago than `keepMs`: the vectors they made are in the chunk rows,
 * and an identical job enqueued later is simply inserted again. Without this the queue table grows by
 * one row per chunk text ever embedded. Failed jobs stay until retried: they are the dead letters.
 */
export async function pruneDoneJobs(pool: CommonQueryMethods, keepMs: number): Promise<number> {
  const ids = await pool.anyFirst(sql.type(z.object({ id: z.string() }))`
    DELETE FROM ${jobs} WHERE state = 'done' AND finished_at < now() - make_interval(secs => ${keepMs / 1000})
    RETURNING id`);
  return ids.length;
}

/** `--retry-failed`: failed jobs get a fresh set of attempts. */
export async function retryFailedJobs(pool: CommonQueryMethods, target: QueueTarget): Promise<number> {
  const ids = await pool.anyFirst(sql.type(z.object({ id: z.string() }))`
    UPDATE ${jobs} SET state = 'queued', attempts = 0, run_after = now(), finished_at = NULL
    WHERE state = 'failed' AND model = ${target.model} AND dimensions = ${target.dimensions} RETURNING id`);
  return ids.length;
}

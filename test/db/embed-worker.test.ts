import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { openAiProvider } from '../../src/embed/openai.ts';
import { claimBatch, completeJobs, queueStatus, retryFailedJobs } from '../../src/embed/queue.ts';
import { runWorker, type WorkerOptions, WorkerStoppedError } from '../../src/embed/worker.ts';
import { type Backend, backends } from '../support/databases.ts';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.ts';
import { editFile, knowledgeRegistry } from '../support/knowledge-fixture.ts';
import { apply, plan } from '../support/registry.ts';

const target = { model: 'fake-embed-1', dimensions: 8 };
const count = z.object({ n: z.number() });

const workerOptions = (fake: FakeEmbeddings, extra: Partial<WorkerOptions> = {}): WorkerOptions => ({
  provider: openAiProvider({
    baseUrl: fake.url,
    ...target,
    apiKey: 'sk-test-secret',
    apiKeyEnv: 'TEST_KEY',
    timeoutMs: 2_000,
  }),
  concurrency: 2,
  maxInputs: 8,
  maxTokens: 2_000,
  maxAttempts: 4,
  leaseMs: 60_000,
  backoffMs: 20,
  maxBackoffMs: 200,
  watch: false,
  pollMs: 50,
  ...extra,
});

const vectorBackend = backends.find((b) => b.vector)!;

/** How many chunks the first apply of knowledgeRegistry() wrote, by backend (set where it is applied). */
const chunksApplied = new Map<string, number>();

/**
 * A database of its own in which knowledgeRegistry() is applied, as `apply(db, knowledgeRegistry(),
 * backend.vector)` leaves a new one: applied once per file, each test gets a copy.
 */
const openKnowledgeApplied = (backend: Backend) =>
  backend.openPrepared('knowledge registry applied', async (db) => {
    const applied = await apply(db, knowledgeRegistry(), backend.vector);
    if (applied.status !== 'applied') throw new Error('not applied');
    chunksApplied.set(backend.name, applied.plan.knowledge!.totals.changed);
  });

async function secondConnection(db: Database): Promise<Database> {
  const url = new URL(process.env.TEST_DATABASE_URL!);
  url.pathname = `/${String(await db.pool.oneFirst(sql.unsafe`SELECT current_database()`))}`;
  return openDatabase({ backend: 'postgres', url: url.toString() });
}

describe(`canon embed's worker against a fake OpenAI-compatible server (${vectorBackend.name})`, () => {
  let db: Database;
  let fake: FakeEmbeddings;
  afterEach(async () => {
    await db?.close();
    await fake?.close();
  });

  const setUp = async () => {
    db = await openKnowledgeApplied(vectorBackend);
    fake = await startFakeEmbeddings({ dimensions: 8 });
    return { dir: knowledgeRegistry(), chunks: chunksApplied.get(vectorBackend.name)! };
  };
  const embedded = () =>
    db.pool.oneFirst(sql.type(count)`
    SELECT count(*)::int AS n FROM knowledge_chunks WHERE embedding IS NOT NULL AND embedding_model = ${target.model}`);
  const states = async () =>
    Object.fromEntries(
      (
        await db.pool.any(sql.type(z.object({ state: z.string(), n: z.number() }))`
    SELECT state, count(*)::int AS n FROM canon_embedding_jobs GROUP BY state`)
      ).map((r) => [r.state, r.n]),
    );

  it('drains the queue: every chunk embedded exactly once, in batches by input count; then the plan is up to date', async () => {
    const { dir, chunks } = await setUp();
    const stats = await runWorker(db.pool, workerOptions(fake));
    expect(stats).toMatchObject({ embedded: chunks, failed: 0, retried: 0 });
    expect(await embedded()).toBe(chunks);
    const inputs = fake.requests.flat();
    expect(inputs).toHaveLength(chunks);
    expect(new Set(inputs).size).toBe(chunks);
    expect(Math.max(...fake.requests.map((r) => r.length))).toBeLessThanOrEqual(8);
    expect(fake.authorizations.every((a) => a === 'Bearer sk-test-secret')).toBe(true);
    expect(await states()).toEqual({ done: chunks });
    const after = await plan(db, dir, true);
    expect(after.statements).toEqual([]);
    expect(after.plan.knowledge!.totals).toMatchObject({ jobs: 0, waiting: 0 });
  });

  it('removes done jobs older than keepDoneMs when the queue is empty, keeps newer ones and failed ones', async () => {
    const { chunks } = await setUp();
    await runWorker(db.pool, workerOptions(fake));
    expect(await states()).toEqual({ done: chunks });
    // Age two done jobs past a day; mark one failed (a dead letter, kept until retried).
    await db.pool.query(sql.unsafe`
      UPDATE canon_embedding_jobs SET finished_at = now() - interval '2 days'
      WHERE id IN (SELECT id FROM canon_embedding_jobs ORDER BY id LIMIT 2)`);
    await db.pool.query(sql.unsafe`
      UPDATE canon_embedding_jobs SET state = 'failed', finished_at = now() - interval '2 days'
      WHERE id = (SELECT id FROM canon_embedding_jobs ORDER BY id DESC LIMIT 1)`);
    const stats = await runWorker(db.pool, workerOptions(fake, { keepDoneMs: 86_400_000 }));
    expect(stats).toMatchObject({ embedded: 0, pruned: 2 });
    expect(await states()).toEqual({ done: chunks - 3, failed: 1 });
  });

  it('splits batches by token budget', async () => {
    await setUp();
    await runWorker(db.pool, workerOptions(fake, { maxInputs: 50, maxTokens: 150 }));
    // Chunks are 60-120 tokens here: at most two fit 150 tokens, and a single one always goes alone.
    expect(Math.max(...fake.requests.map((r) => r.length))).toBeLessThanOrEqual(2);
  });

  it('survives 500, 429 with Retry-After, malformed JSON, a timeout and a short batch, and still embeds each chunk', async () => {
    const { chunks } = await setUp();
    fake.faults.push(
      { status: 500 },
      { status: 429, retryAfter: '1' },
      { malformed: true },
      { hang: true },
      { short: true },
    );
    const started = Date.now();
    const stats = await runWorker(
      db.pool,
      workerOptions(fake, {
        concurrency: 1,
        provider: openAiProvider({
          baseUrl: fake.url,
          ...target,
          apiKey: undefined,
          apiKeyEnv: 'TEST_KEY',
          timeoutMs: 300,
        }),
      }),
    );
    expect(stats.failed).toBe(0);
    expect(stats.retried).toBeGreaterThanOrEqual(5);
    expect(await embedded()).toBe(chunks);
    expect(await states()).toEqual({ done: chunks });
    // Retry-After: 1 was honoured: the jobs of the refused batch waited at least a second.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
  });

  it('one chunk the provider refuses fails alone, with its error; its batch neighbours are embedded; --retry-failed requeues it', async () => {
    const { chunks } = await setUp();
    fake.poison = 'step 2.7 ';
    const stats = await runWorker(db.pool, workerOptions(fake, { concurrency: 1 }));
    expect(stats.failed).toBe(1);
    expect(await embedded()).toBe(chunks - 1);
    const status = await queueStatus(db.pool, target);
    expect(status).toMatchObject({ failed: 1, done: chunks - 1, queued: 0, leased: 0 });
    expect(status.failures[0]!.error).toMatch(/answered 400: This input is not accepted/);
    expect(JSON.stringify(status)).not.toContain('sk-test-secret');
    fake.poison = undefined;
    expect(await retryFailedJobs(db.pool, target)).toBe(1);
    await runWorker(db.pool, workerOptions(fake));
    expect(await embedded()).toBe(chunks);
  });

  it('caps attempts: a job that keeps failing ends failed with its last error', async () => {
    await setUp();
    for (let i = 0; i < 200; i++) fake.faults.push({ status: 502 });
    const stats = await runWorker(db.pool, workerOptions(fake, { maxAttempts: 2, concurrency: 1 }));
    expect(stats.embedded).toBe(0);
    const status = await queueStatus(db.pool, target);
    expect(status.queued + status.leased).toBe(0);
    expect(status.failed).toBeGreaterThan(0);
    expect(status.failures.every((f) => f.attempts === 2 && /answered 502/.test(f.error ?? ''))).toBe(true);
  });

  it('a wrong dimension stops the worker with a clear message and gives the jobs back untouched', async () => {
    const { chunks } = await setUp();
    fake.faults.push({ dimensions: 12 });
    await expect(runWorker(db.pool, workerOptions(fake, { concurrency: 1 }))).rejects.toThrow(WorkerStoppedError);
    await expect(
      runWorker(
        db.pool,
        workerOptions(fake, { concurrency: 1, provider: { ...workerOptions(fake).provider, dimensions: 8 } }),
      ),
    ).resolves.toBeDefined();
    expect(await embedded()).toBe(chunks);
    const attempts = await db.pool.anyFirst(
      sql.type(z.object({ attempts: z.number() }))`SELECT DISTINCT attempts FROM canon_embedding_jobs`,
    );
    expect(attempts).toEqual([1]);
  });

  it('says which dimension the provider returned and what to change', async () => {
    await setUp();
    fake.faults.push({ dimensions: 12 });
    await expect(runWorker(db.pool, workerOptions(fake, { concurrency: 1 }))).rejects.toThrow(
      /returned 12-dimensional vectors .* embeddings.dimensions is 8: set embeddings.dimensions to 12/,
    );
  });

  it('two workers racing on one queue embed each chunk exactly once', async () => {
    const { chunks } = await setUp();
    const [a, b] = await Promise.all([
      runWorker(db.pool, workerOptions(fake, { maxInputs: 3 })),
      runWorker(db.pool, workerOptions(fake, { maxInputs: 3 })),
    ]);
    expect(a.embedded + b.embedded).toBe(chunks);
    expect(a.embedded).toBeGreaterThan(0);
    expect(b.embedded).toBeGreaterThan(0);
    const inputs = fake.requests.flat();
    expect(inputs).toHaveLength(chunks);
    expect(new Set(inputs).size).toBe(chunks);
  });

  it('discards a result whose chunk changed while it was being embedded', async () => {
    await setUp();
    const leased = await claimBatch(db.pool, {
      ...target,
      worker: 'test',
      maxInputs: 2,
      maxTokens: 10_000,
      leaseMs: 60_000,
      maxAttempts: 3,
    });
    expect(leased).toHaveLength(2);
    // An apply rewrites the first chunk meanwhile.
    await db.pool.query(
      sql.unsafe`UPDATE knowledge_chunks SET content = 'rewritten', content_hash = 'other' WHERE id = ${leased[0]!.chunkId}`,
    );
    const written = await completeJobs(
      db.pool,
      target,
      leased.map((job) => ({ job, vector: [1, 0, 0, 0, 0, 0, 0, 0] })),
    );
    expect(written).toBe(1);
    const rows = await db.pool.any(sql.type(z.object({ id: z.string(), has: z.boolean() }))`
      SELECT id, embedding IS NOT NULL AS has FROM knowledge_chunks WHERE id = ANY(${sql.array(
        leased.map((j) => j.chunkId),
        'uuid',
      )})`);
    expect(rows.find((r) => r.id === leased[0]!.chunkId)!.has).toBe(false);
    expect(rows.find((r) => r.id === leased[1]!.chunkId)!.has).toBe(true);
    expect(
      await db.pool.oneFirst(
        sql.type(count)`SELECT count(*)::int AS n FROM canon_embedding_jobs WHERE id = ${leased[0]!.id}`,
      ),
    ).toBe(0);
  });

  it('--watch keeps serving: jobs enqueued by a later apply are embedded, and it stops when told', async () => {
    const { dir, chunks } = await setUp();
    const controller = new AbortController();
    const serving = runWorker(db.pool, workerOptions(fake, { watch: true, pollMs: 50, signal: controller.signal }));
    for (let i = 0; i < 600 && (await embedded()) < chunks; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await embedded()).toBe(chunks);
    // A new source arrives while the worker idles.
    editFile(
      dir,
      'assets.yaml',
      'The zircon excipient ratio',
      'Second paragraph added.\n\n  The zircon excipient ratio',
    );
    const applied = await apply(db, dir, true);
    if (applied.status !== 'applied') throw new Error('not applied');
    const more = applied.plan.knowledge!.totals.jobs;
    expect(more).toBeGreaterThan(0);
    for (let i = 0; i < 600 && (await states()).queued; i++) await new Promise((r) => setTimeout(r, 50));
    controller.abort();
    const stats = await serving;
    expect(stats.embedded).toBe(chunks + more);
    expect(await states()).toEqual({ done: chunks + more });
  });

  it('an expired lease is taken again by another worker', async () => {
    const { chunks } = await setUp();
    const leased = await claimBatch(db.pool, {
      ...target,
      worker: 'dead',
      maxInputs: 3,
      maxTokens: 10_000,
      leaseMs: 1,
      maxAttempts: 3,
    });
    expect(leased).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 20));
    await runWorker(db.pool, workerOptions(fake));
    expect(await embedded()).toBe(chunks);
  });
});

for (const backend of backends) {
  describe(`the embedding queue on ${backend.name}`, () => {
    let db: Database;
    let other: Database | undefined;
    afterEach(async () => {
      await other?.close();
      await db?.close();
    });

    it('concurrent claims never lease one job twice (FOR UPDATE SKIP LOCKED)', async () => {
      db = await openKnowledgeApplied(backend);
      if (!backend.vector) {
        // No pgvector here, so apply enqueued nothing: enqueue a job per chunk as apply would.
        await db.pool.query(sql.unsafe`INSERT INTO canon_embedding_jobs (chunk_table, chunk_id, content_hash, model, dimensions, token_count, state)
          SELECT 'knowledge_chunks', id, content_hash, ${target.model}, ${target.dimensions}, token_count, 'queued' FROM knowledge_chunks`);
      }
      const total = await db.pool.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM canon_embedding_jobs`);
      // A second connection pool where the backend has more than one connection (the server).
      const pools =
        backend.name === 'postgres' ? [db.pool, (other = await secondConnection(db)).pool] : [db.pool, db.pool];
      const claim = (i: number) =>
        claimBatch(pools[i % 2]!, {
          ...target,
          worker: `w${i}`,
          maxInputs: 2,
          maxTokens: 10_000,
          leaseMs: 60_000,
          maxAttempts: 3,
        });
      const seen: string[] = [];
      for (;;) {
        const batches = await Promise.all([0, 1, 2, 3].map(claim));
        const ids = batches.flat().map((j) => j.id);
        if (ids.length === 0) break;
        seen.push(...ids);
      }
      expect(seen).toHaveLength(total);
      expect(new Set(seen).size).toBe(total);
    });
  });
}

// npm run bench:embed — the embedding pipeline's own costs, against the local fake OpenAI-compatible
// server with a fixed latency per call, on PGlite (the local server has no pgvector): the share of
// apply spent enqueueing jobs, chunks/s through the queue at several concurrencies, the queue's
// overhead per job, and the offline local model's chunks/s. Prints figures; asserts nothing.
// BENCH_CHUNKS (default 10000), BENCH_LATENCY_MS (50), BENCH_CONCURRENCY (1,4,16), BENCH_LOCAL=0 skips the local model.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { applyRegistry } from '../../src/apply/apply.ts';
import { defaultConfig } from '../../src/config/config.ts';
import { openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { localProvider } from '../../src/embed/local.ts';
import { openAiProvider } from '../../src/embed/openai.ts';
import type { EmbeddingProvider } from '../../src/embed/provider.ts';
import { claimBatch, completeJobs } from '../../src/embed/queue.ts';
import { runWorker } from '../../src/embed/worker.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { startFakeEmbeddings } from '../support/fake-embeddings.ts';

const chunks = Number(process.env.BENCH_CHUNKS ?? 10_000);
const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 50);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,4,16').split(',').map(Number);
const perSource = 100;
const batchSize = 64;
const dims = 8;

/** `sources` knowledge sources of `perSource` one-paragraph chunks each (max_tokens fits one paragraph). */
function registry(sources: number, version: string, into?: string): string {
  const dir = into ?? join(mkdtempSync(join(tmpdir(), 'canon-bench-embed-')), 'registry');
  mkdirSync(join(dir, 'docs'), { recursive: true });
  writeFileSync(
    join(dir, 'canon.yaml'),
    `embeddings:\n  model: bench-embed\n  dimensions: ${dims}\nchunking:\n  max_tokens: 40\n  overlap: 0\n`,
  );
  const docs: string[] = [];
  for (let s = 0; s < sources; s++) {
    const paragraphs = Array.from(
      { length: perSource },
      (_, i) =>
        `Source ${s} paragraph ${i} (${version}): the team records decision ${s}-${i}, its owner and date; reviewers check it.`,
    );
    writeFileSync(join(dir, 'docs', `doc-${s}.md`), `# Document ${s}\n\n${paragraphs.join('\n\n')}\n`);
    docs.push(`kind: KnowledgeSource\nid: doc-${s}\nname: Document ${s}\nfile_path: docs/doc-${s}.md\n`);
  }
  writeFileSync(join(dir, 'knowledge.yaml'), docs.join('---\n'));
  return dir;
}

const timed = (provider: EmbeddingProvider) => {
  const clock = { ms: 0, calls: 0 };
  const wrapped: EmbeddingProvider = {
    ...provider,
    async embed(inputs, signal) {
      const t = performance.now();
      try {
        return await provider.embed(inputs, signal);
      } finally {
        clock.ms += performance.now() - t;
        clock.calls++;
      }
    },
  };
  return { wrapped, clock };
};

const fake = await startFakeEmbeddings({ dimensions: dims, latencyMs });
const db = await openDatabase({ backend: 'pglite', dataDir: null });
try {
  const catalog = loadKindCatalog('schemas');
  const applyOnce = async (dir: string) => {
    const marks: { purpose: string; at: number }[] = [];
    const started = performance.now();
    const outcome = await applyRegistry(db, {
      dir,
      catalog,
      schema: { embeddings: true, dimensions: dims },
      deleteMode: 'soft',
      statementTimeoutMs: 600_000,
      lockTimeoutMs: 5_000,
      allowDelete: false,
      allowDestructive: false,
      onStatement: (_i, _n, purpose) => marks.push({ purpose, at: performance.now() }),
    });
    const applyMs = performance.now() - started;
    if (outcome.status !== 'applied') throw new Error(`apply: ${outcome.status}`);
    const ended = started + outcome.durationMs;
    const spent = (match: (p: string) => boolean) =>
      marks.reduce((ms, m, i) => ms + (match(m.purpose) ? (marks[i + 1]?.at ?? ended) - m.at : 0), 0);
    const enqueueMs = spent((p) => p.startsWith('enqueue embedding jobs'));
    const chunkWriteMs = spent((p) => p.startsWith('upsert knowledge_chunks'));
    const total = outcome.plan.knowledge!.totals;
    return (
      `${total.changed} chunks written, ${total.jobs} jobs: ${(applyMs / 1000).toFixed(2)} s in all (plan inside: ${(outcome.durationMs - outcome.executeMs).toFixed(0)} ms); ` +
      `writing chunk rows ${chunkWriteMs.toFixed(0)} ms; enqueueing ${enqueueMs.toFixed(0)} ms = ${((enqueueMs / applyMs) * 100).toFixed(1)}% of the apply (goal < 15%)`
    );
  };
  const dir = registry(Math.ceil(chunks / perSource), 'v1');
  console.log(`first apply (schema, sources, chunks, jobs): ${await applyOnce(dir)}`);
  registry(Math.ceil(chunks / perSource), 'v2', dir);
  console.log(`every document edited, apply again: ${await applyOnce(dir)}`);

  const reset = async () => {
    await db.pool.query(sql.unsafe`UPDATE knowledge_chunks SET embedding = NULL, embedding_model = NULL`);
    await db.pool.query(
      sql.unsafe`UPDATE canon_embedding_jobs SET state = 'queued', attempts = 0, run_after = now(), finished_at = NULL, leased_until = NULL`,
    );
  };
  console.log(`\nqueue against the fake provider (${latencyMs} ms per call, ${batchSize} inputs per call), PGlite:`);
  console.log(
    'concurrency | chunks/s | wall s | provider calls | queue overhead per job (wall - provider time) / jobs, at concurrency 1',
  );
  for (const concurrency of concurrencies) {
    await reset();
    const { wrapped, clock } = timed(
      openAiProvider({ baseUrl: fake.url, model: 'bench-embed', dimensions: dims, apiKey: undefined, apiKeyEnv: 'X' }),
    );
    const t = performance.now();
    const stats = await runWorker(db.pool, {
      provider: wrapped,
      concurrency,
      maxInputs: batchSize,
      maxTokens: 100_000,
      maxAttempts: 3,
      leaseMs: 600_000,
      backoffMs: 100,
      maxBackoffMs: 1_000,
      watch: false,
      pollMs: 100,
    });
    const wall = performance.now() - t;
    const done = await db.pool.oneFirst(
      sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM canon_embedding_jobs WHERE state = 'done'`,
    );
    const overhead = concurrency === 1 ? `${((wall - clock.ms) / stats.embedded).toFixed(3)} ms/job (goal < 2)` : '';
    console.log(
      `${String(concurrency).padStart(11)} | ${(stats.embedded / (wall / 1000)).toFixed(0).padStart(8)} | ${(wall / 1000).toFixed(2).padStart(6)} | ${String(clock.calls).padStart(14)} | ${overhead}` +
        (done !== stats.embedded ? `  (!! ${done} done)` : ''),
    );
  }

  // The same queue without a provider: where the overhead goes (leasing vs writing vectors, whose
  // HNSW and full-text index upkeep is the storage's cost, not the queue's).
  await reset();
  const target = { model: 'bench-embed', dimensions: dims };
  const vector = Array.from({ length: dims }, (_, i) => (i === 0 ? 1 : 0));
  let claimMs = 0;
  let writeMs = 0;
  let jobs = 0;
  for (;;) {
    const t0 = performance.now();
    const batch = await claimBatch(db.pool, {
      ...target,
      worker: 'bench',
      maxInputs: batchSize,
      maxTokens: 100_000,
      leaseMs: 600_000,
      maxAttempts: 3,
    });
    const t1 = performance.now();
    if (batch.length === 0) break;
    await completeJobs(
      db.pool,
      target,
      batch.map((job) => ({ job, vector })),
    );
    writeMs += performance.now() - t1;
    claimMs += t1 - t0;
    jobs += batch.length;
  }
  console.log(
    `queue alone, ${jobs} jobs in batches of ${batchSize}: leasing ${(claimMs / jobs).toFixed(3)} ms/job, ` +
      `writing vectors and finishing jobs ${(writeMs / jobs).toFixed(3)} ms/job`,
  );

  if (process.env.BENCH_LOCAL !== '0') {
    const texts = await db.pool.anyFirst(
      sql.type(z.object({ content: z.string() }))`SELECT content FROM knowledge_chunks ORDER BY id LIMIT 64`,
    );
    const local = localProvider({ ...defaultConfig.embeddings, provider: 'local', model: 'use-lite', dimensions: 512 });
    const cold = performance.now();
    await local.embed(texts.slice(0, 1));
    const coldMs = performance.now() - cold;
    const t = performance.now();
    for (let i = 0; i < texts.length; i += 16) await local.embed(texts.slice(i, i + 16));
    const s = (performance.now() - t) / 1000;
    console.log(
      `\nlocal model (USE-lite, WASM): cold start ${coldMs.toFixed(0)} ms; ${(texts.length / s).toFixed(1)} chunks/s on ~30-token chunks, batches of 16`,
    );
  }
} finally {
  await db.close();
  await fake.close();
}

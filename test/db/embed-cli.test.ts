import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { openAiProvider } from '../../src/embed/openai.ts';
import { runWorker } from '../../src/embed/worker.ts';
import { cliPath } from '../support/built-cli.ts';
import { pgliteDataFolder } from '../support/databases.ts';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.ts';
import { knowledgeRegistry } from '../support/knowledge-fixture.ts';
import { apply } from '../support/registry.ts';

const key = 'sk-canon-test-DO-NOT-PRINT';
const count = z.object({ n: z.number() });

function canon(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, FAKE_EMBEDDINGS_KEY: key, NO_COLOR: '1', ...env },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

describe('canon embed as a process (embedded database on disk)', () => {
  let fake: FakeEmbeddings;
  let db: Database | undefined;
  afterEach(async () => {
    await db?.close();
    db = undefined;
    await fake?.close();
  });

  const setUp = async () => {
    fake = await startFakeEmbeddings({ dimensions: 8 });
    const dir = knowledgeRegistry({ baseUrl: fake.url });
    const dataDir = await pgliteDataFolder('canon-embed-db-');
    const first = await openDatabase({ backend: 'pglite', dataDir });
    const applied = await apply(first, dir, true);
    await first.close();
    if (applied.status !== 'applied') throw new Error('not applied');
    return { dir, dataDir, chunks: applied.plan.knowledge!.totals.changed };
  };

  it('drains the queue, prints a summary and the status (text and JSON), and never prints the API key', async () => {
    const { dir, dataDir, chunks } = await setUp();
    const run = await canon(['embed', '--dir', dir, '--database', `pglite:${dataDir}`]).done;
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^Embedded ${chunks} chunks \\([\\d,]+ tokens\\) with openai \\(http://127.0.0.1:\\d+/v1\\) in [\\d.]+ s: \\d+ provider calls, 0 retried, 0 failed.\\n$`,
      ),
    );
    const status = await canon([
      'embed',
      '--status',
      '--format',
      'json',
      '--dir',
      dir,
      '--database',
      `pglite:${dataDir}`,
    ]).done;
    expect(JSON.parse(status.stdout)).toMatchObject({
      model: 'fake-embed-1',
      dimensions: 8,
      queued: 0,
      leased: 0,
      failed: 0,
      done: chunks,
      oldestPendingSeconds: null,
    });
    const text = await canon(['embed', '--status', '--dir', dir, '--database', `pglite:${dataDir}`]).done;
    expect(text.stdout).toBe(`Embedding queue (fake-embed-1): 0 queued, 0 leased, 0 failed, ${chunks} done.\n`);
    for (const out of [run, status, text]) expect(out.stdout + out.stderr).not.toContain(key);
    expect(fake.authorizations.every((a) => a === `Bearer ${key}`)).toBe(true);
  });

  it('a key the provider refuses stops the worker with one line naming the variable, not the key', async () => {
    const { dir, dataDir } = await setUp();
    fake.faults.push({
      status: 401,
      body: JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } }),
    });
    const run = await canon(['embed', '--dir', dir, '--database', `pglite:${dataDir}`]).done;
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^canon embed: stopped: http:\/\/127.0.0.1:\d+\/v1 answered 401: Incorrect API key provided: \*\*\* \(the key in \$FAKE_EMBEDDINGS_KEY was refused/,
    );
    expect(run.stdout + run.stderr).not.toContain(key);
  });

  it('SIGKILL mid-batch loses nothing: the lease expires, another worker embeds every chunk once', async () => {
    const { dir, dataDir, chunks } = await setUp();
    fake.faults.push({ hang: true });
    const worker = canon([
      'embed',
      '--dir',
      dir,
      '--database',
      `pglite:${dataDir}`,
      '--lease',
      '1s',
      '--concurrency',
      '1',
      '--batch-size',
      '4',
    ]);
    for (let i = 0; i < 600 && fake.requests.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(fake.requests).toHaveLength(1);
    worker.child.kill('SIGKILL');
    expect((await worker.done).signal).toBe('SIGKILL');
    db = await openDatabase({ backend: 'pglite', dataDir });
    const leased = await db.pool.oneFirst(
      sql.type(count)`SELECT count(*)::int AS n FROM canon_embedding_jobs WHERE state = 'leased'`,
    );
    expect(leased).toBe(4);
    await new Promise((r) => setTimeout(r, 1_100));
    const provider = openAiProvider({
      baseUrl: fake.url,
      model: 'fake-embed-1',
      dimensions: 8,
      apiKey: key,
      apiKeyEnv: 'FAKE_EMBEDDINGS_KEY',
    });
    const stats = await runWorker(db.pool, {
      provider,
      concurrency: 2,
      maxInputs: 8,
      maxTokens: 10_000,
      maxAttempts: 3,
      leaseMs: 60_000,
      backoffMs: 10,
      maxBackoffMs: 100,
      watch: false,
      pollMs: 50,
    });
    expect(stats.embedded).toBe(chunks);
    const states = await db.pool.any(
      sql.type(
        z.object({ state: z.string(), n: z.number() }),
      )`SELECT state, count(*)::int AS n FROM canon_embedding_jobs GROUP BY state`,
    );
    expect(states).toEqual([{ state: 'done', n: chunks }]);
    const vectors = await db.pool.oneFirst(
      sql.type(count)`SELECT count(*)::int AS n FROM knowledge_chunks WHERE embedding IS NOT NULL`,
    );
    expect(vectors).toBe(chunks);
    // The killed worker's 4 inputs were sent once before the kill and once after: nothing else twice.
    const inputs = fake.requests.slice(1).flat();
    expect(inputs).toHaveLength(chunks);
    expect(new Set(inputs).size).toBe(chunks);
  });
});

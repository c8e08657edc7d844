import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { knowledgeLines } from '../../src/embed/summary.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { renderPlanText } from '../../src/render/plan/text.ts';
import { plainStyle } from '../../src/render/style.ts';
import { backends } from '../support/databases.ts';
import { editFile, knowledgeRegistry, paragraphText } from '../support/knowledge-fixture.ts';
import { apply, plan } from '../support/registry.ts';

const chunkRow = z.object({
  id: z.string(),
  chunk_index: z.number(),
  content_hash: z.string(),
  section_title: z.string().nullable(),
  token_count: z.number(),
});
const count = z.object({ n: z.number() });

for (const backend of backends) {
  describe(`knowledge chunks and embedding jobs on ${backend.name}`, () => {
    const vec = backend.vector;
    let db: Database;
    afterEach(async () => db?.close());

    const chunks = () =>
      db.pool.any(sql.type(chunkRow)`
      SELECT c.id, c.chunk_index, c.content_hash, c.section_title, c.token_count FROM knowledge_chunks c
      JOIN knowledge_sources s ON s.id = c.source_id WHERE s.unique_id = 'sop-guide' ORDER BY c.chunk_index`);
    const jobs = () => db.pool.oneFirst(sql.type(count)`SELECT count(*)::int AS n FROM canon_embedding_jobs`);

    it('apply writes the chunks and, in the same transaction, one job per chunk; a re-plan has nothing to do', async () => {
      db = await backend.open();
      const dir = knowledgeRegistry();
      const first = await apply(db, dir, vec);
      expect(first.status).toBe('applied');
      if (first.status !== 'applied') return;
      const rows = await chunks();
      expect(rows.length).toBeGreaterThan(15);
      expect(rows.every((r) => r.token_count > 0 && r.token_count <= 120)).toBe(true);
      expect(new Set(rows.map((r) => r.section_title))).toEqual(
        new Set(['Pharmacovigilance', 'Labelling', 'Manufacturing', 'Distribution']),
      );
      const planned = first.plan.knowledge!;
      const total = planned.totals.changed;
      expect(planned.totals.unchanged).toBe(0);
      if (vec) {
        expect(planned.totals.jobs).toBe(total);
        expect(planned.totals.tokens).toBeGreaterThan(0);
        expect(await jobs()).toBe(total);
      } else {
        // No pgvector on this server: chunks for full-text search, no jobs, and the plan says why.
        expect(planned.embeddingsOff).toMatch(/embeddings are off/);
        expect(await jobs()).toBe(0);
        expect(knowledgeLines(planned).join('\n')).toMatch(/embeddings are off/);
      }
      const again = await plan(db, dir, vec);
      expect(again.statements).toEqual([]);
      expect(again.plan.knowledge!.totals).toMatchObject({
        changed: 0,
        removed: 0,
        jobs: 0,
        unchanged: total,
        waiting: vec ? total : 0,
      });
    });

    it('a chunk edited in the database, not by apply, is planned as changed and written back', async () => {
      db = await backend.open();
      const dir = knowledgeRegistry();
      await apply(db, dir, vec);
      const before = await chunks();
      const tampered = before[3]!;
      const original = await db.pool.oneFirst(sql.type(z.object({ content: z.string() }))`
        SELECT content FROM knowledge_chunks WHERE id = ${tampered.id}`);
      await db.pool.query(sql.unsafe`
        UPDATE knowledge_chunks SET content = content || ' (edited in the console)' WHERE id = ${tampered.id}`);
      const drifted = await plan(db, dir, vec);
      expect(drifted.plan.knowledge!.sources.map((s) => [s.id, s.changed])).toEqual([['sop-guide', 1]]);
      await apply(db, dir, vec);
      const restored = await db.pool.oneFirst(sql.type(z.object({ content: z.string() }))`
        SELECT content FROM knowledge_chunks WHERE id = ${tampered.id}`);
      expect(restored).toBe(original);
      expect((await plan(db, dir, vec)).statements).toEqual([]);
    });

    it('an edit to one paragraph plans and writes only its chunks, in every format; other rows keep their ids', async () => {
      db = await backend.open();
      const dir = knowledgeRegistry();
      await apply(db, dir, vec);
      const before = await chunks();
      const jobsBefore = await jobs();
      editFile(
        dir,
        'docs/guide.md',
        paragraphText(1, 12, 'labelling'),
        'In labelling, this step was rewritten: the carton text is checked by two people.',
      );
      const { plan: p } = await plan(db, dir, vec);
      const k = p.knowledge!;
      expect(k.sources).toHaveLength(1);
      const [source] = k.sources;
      // Chunks never cross headings: the other three sections are untouched, whatever the edit does to
      // its own (how few chunks an edit changes within a section is measured in test/golden/chunk.test.ts).
      const inSection = before.filter((r) => r.section_title === 'Labelling').length;
      expect(source!.changed).toBeGreaterThanOrEqual(1);
      expect(source!.changed).toBeLessThan(inSection);
      expect(source!.unchanged).toBeGreaterThanOrEqual(before.length - inSection);
      const line = `knowledge_sources/sop-guide: ${source!.changed} chunk${source!.changed === 1 ? '' : 's'} changed, ${source!.unchanged} unchanged`;
      expect(renderPlanText(p, plainStyle)).toContain(line);
      expect(renderPlanMarkdown(p)).toContain(line);
      expect(JSON.parse(renderPlanJson(p)).knowledge.sources[0]).toMatchObject({
        id: 'sop-guide',
        changed: source!.changed,
        unchanged: source!.unchanged,
      });
      const result = await apply(db, dir, vec);
      expect(result.status).toBe('applied');
      const after = await chunks();
      const beforeHashes = new Map(before.map((r) => [r.content_hash, r.id]));
      expect(after.filter((r) => !beforeHashes.has(r.content_hash))).toHaveLength(source!.changed);
      // Unchanged text keeps its row (and so its vector), wherever it now stands.
      for (const r of after.filter((r) => beforeHashes.has(r.content_hash)))
        expect(r.id).toBe(beforeHashes.get(r.content_hash));
      expect(after.map((r) => r.chunk_index)).toEqual(after.map((_, i) => i));
      expect(await jobs()).toBe(jobsBefore + (vec ? source!.jobs : 0));
      if (vec) expect(source!.jobs).toBe(source!.changed);
    });

    it('an edit to a field that is not embedded text writes no chunk and enqueues nothing', async () => {
      db = await backend.open();
      const dir = knowledgeRegistry();
      await apply(db, dir, vec);
      const jobsBefore = await jobs();
      editFile(
        dir,
        'assets.yaml',
        "description: The platform's procedures guide",
        'description: The procedures guide, reviewed',
      );
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes.map((c) => c.id)).toEqual(['sop-guide']);
      expect(p.knowledge!.totals).toMatchObject({ changed: 0, removed: 0, jobs: 0 });
      await apply(db, dir, vec);
      expect(await jobs()).toBe(jobsBefore);
    });

    it('a shorter document removes the chunks past its end', async () => {
      db = await backend.open();
      const dir = knowledgeRegistry();
      await apply(db, dir, vec);
      const before = await chunks();
      editFile(dir, 'assets.yaml', 'file_path: docs/guide.md', 'content: "# Short\\n\\nOnly this remains."');
      const { plan: p } = await plan(db, dir, vec);
      expect(p.knowledge!.sources[0]).toMatchObject({ changed: 1, removed: before.length - 1 });
      await apply(db, dir, vec);
      expect((await chunks()).map((r) => r.section_title)).toEqual(['Short']);
    });

    if (vec) {
      it('a change of embeddings.model plans the re-embedding of every chunk, with its token estimate', async () => {
        db = await backend.open();
        const dir = knowledgeRegistry();
        const first = await apply(db, dir, vec);
        if (first.status !== 'applied') throw new Error('not applied');
        // Mark every chunk embedded by the first model, as the worker would have.
        await db.pool.query(
          sql.unsafe`UPDATE knowledge_chunks SET embedding = '[1,0,0,0,0,0,0,0]', embedding_model = 'fake-embed-1'`,
        );
        await db.pool.query(sql.unsafe`UPDATE canon_embedding_jobs SET state = 'done'`);
        expect((await plan(db, dir, vec)).plan.knowledge!.totals.jobs).toBe(0);
        editFile(dir, 'canon.yaml', 'model: fake-embed-1', 'model: fake-embed-2');
        const { plan: p } = await plan(db, dir, vec);
        const all = first.plan.knowledge!.totals.changed;
        expect(p.knowledge!.totals).toMatchObject({
          changed: 0,
          jobs: all,
          tokens: first.plan.knowledge!.totals.tokens,
        });
        expect(renderPlanText(p, plainStyle)).toMatch(
          new RegExp(`${all} embedding jobs to enqueue \\(~[\\d,]+ tokens for fake-embed-2\\)`),
        );
        await apply(db, dir, vec);
        const byModel = await db.pool.any(sql.type(z.object({ model: z.string(), state: z.string(), n: z.number() }))`
          SELECT model, state, count(*)::int AS n FROM canon_embedding_jobs GROUP BY 1, 2 ORDER BY 1, 2`);
        expect(byModel).toEqual([
          { model: 'fake-embed-1', state: 'done', n: all },
          { model: 'fake-embed-2', state: 'queued', n: all },
        ]);
      });
    }
  });
}

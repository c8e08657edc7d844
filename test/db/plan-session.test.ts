import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { planRegistry } from '../../src/pipeline/plan.ts';
import { createPlanSession, type PlanSession } from '../../src/pipeline/session.ts';
import type { Plan } from '../../src/plan/model.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';

// Everything a saved plan holds: knowledge chunks, embedding jobs, and the hashes.
const asSaved = (plan: Plan) => JSON.parse(renderPlanJson(plan));

import { backends } from '../support/databases.ts';
import { catalog, copyRegistry, edit, openApplied, options } from '../support/registry.ts';

// `canon dev` re-plans through a session after every save. What it shows must be what a cold
// `canon validate` and `canon plan` would print for the same files and database: the same
// diagnostics and the same plan, hashes included.
for (const backend of backends) {
  describe(`plan session on ${backend.name}`, () => {
    const vec = backend.vector;
    let db: Database;
    const copies: string[] = [];
    const copied = (dir: string) => (copies.push(dirname(dir)), dir);
    afterEach(async () => {
      await db?.close();
      for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
    });

    const sessionFor = (dir: string) =>
      createPlanSession({ dir, catalog, schema: { embeddings: vec, dimensions: 8 }, deleteMode: 'soft' });

    async function expectSameAsCold(session: PlanSession, dir: string, changed?: string[]) {
      const warm = session.update(changed?.map((f) => join(dir, f)));
      const checked = checkRegistry(dir, catalog);
      expect(warm.diagnostics).toEqual(checked.diagnostics);
      const cold = await planRegistry(db, options(dir, vec));
      expect(warm.plan !== null).toBe(cold.ok);
      if (cold.ok && warm.plan) {
        expect(warm.plan.changes).toEqual(cold.plan.changes);
        expect(asSaved(warm.plan)).toEqual(asSaved(cold.plan));
      }
      return warm;
    }

    it('plans each edit as a cold plan does: fields, new and deleted files, errors, references, clashes', async () => {
      db = await openApplied(backend);
      const dir = copied(copyRegistry());
      // A row Canon does not manage, standing where an asset added later would go.
      await db.pool.query(sql.unsafe`
        INSERT INTO prompts (unique_id, name, content) VALUES ('taken-prompt', 'Made by hand', 'x')`);
      const session = sessionFor(dir);
      expect(session.update().plan).toBeNull();
      await session.refreshLive(db);

      const start = await expectSameAsCold(session, dir);
      expect(start.plan!.summary).toMatchObject({ create: 0, update: 0, delete: 0 });

      const summarise = (level: string) => `complexity_level: ${level}\ncontent: |\n  Summarise the publication`;
      edit(dir, 'platform/prompts.yaml', summarise('Medium'), summarise('High'));
      const field = await expectSameAsCold(session, dir, ['platform/prompts.yaml']);
      const changed = field.plan!.changes.map((c) => [c.action, c.id, c.fields.map((f) => f.path)]);
      expect(changed).toEqual([['update', 'literature-summary', ['complexity_level']]]);

      // A knowledge source's text: its chunks and embedding jobs are planned on save, as `canon plan` does.
      edit(dir, 'platform/knowledge.yaml', 'must not proactively raise', 'must never proactively raise');
      const rechunked = await expectSameAsCold(session, dir, ['platform/knowledge.yaml']);
      const knowledge = rechunked.plan!.knowledge!;
      expect(knowledge.sources.map((k) => [k.id, k.changed])).toEqual([['off-label-communication-policy', 1]]);
      expect(knowledge.totals.jobs).toBe(vec ? 1 : 0);

      mkdirSync(join(dir, 'platform/more'));
      writeFileSync(
        join(dir, 'platform/more/new.yaml'),
        [
          'kind: Prompt\nid: brand-new-prompt\nname: Brand new\ncontent: Say hello.\nindustries: [biotech]\n',
          'kind: Prompt\nid: taken-prompt\nname: Taken\ncontent: x\n',
        ].join('---\n'),
      );
      const added = await expectSameAsCold(session, dir, ['platform/more/new.yaml']);
      expect(added.plan!.summary.create).toBe(1);
      expect(added.plan!.diagnostics.map((d) => d.code)).toEqual(['CANON402']);

      rmSync(join(dir, 'tenants/helix-bio/translational.yaml'));
      const deleted = await expectSameAsCold(session, dir, ['tenants/helix-bio/translational.yaml']);
      expect(deleted.plan!.summary.delete).toBeGreaterThan(0);

      edit(dir, 'platform/tools.yaml', 'name: ', 'nmae: ');
      const broken = await expectSameAsCold(session, dir, ['platform/tools.yaml']);
      expect(broken.plan).toBeNull();
      edit(dir, 'platform/tools.yaml', 'nmae: ', 'name: ');
      await expectSameAsCold(session, dir, ['platform/tools.yaml']);

      // Renaming a prompt breaks references to it from other files; renaming it back heals them.
      edit(dir, 'platform/prompts.yaml', 'id: msl-kol-briefing', 'id: msl-kol-brief');
      const dangling = await expectSameAsCold(session, dir, ['platform/prompts.yaml']);
      const danglingIn = dangling.diagnostics.filter((d) => d.code === 'CANON302').map((d) => d.file);
      expect(danglingIn.some((f) => f.endsWith('acme-oncology/oncology.yaml'))).toBe(true);
      edit(dir, 'platform/prompts.yaml', 'id: msl-kol-brief', 'id: msl-kol-briefing');
      const healed = await expectSameAsCold(session, dir, ['platform/prompts.yaml']);
      expect(healed.plan).not.toBeNull();
    });

    it("sees rows changed behind Canon's back: a cold plan and a refreshed session both plan them back", async () => {
      db = await openApplied(backend);
      const dir = copied(copyRegistry());
      const session = sessionFor(dir);
      await session.refreshLive(db);
      expect(session.update().plan!.changes).toEqual([]);

      // Hand edits of a managed core row and of a managed asset's relation rows, not through Canon.
      await db.pool.query(sql.unsafe`UPDATE prompts SET name = 'By hand' WHERE unique_id = 'literature-summary'`);
      await db.pool.query(sql.unsafe`
        DELETE FROM agent_prompts WHERE agent_id = (SELECT id FROM agents WHERE unique_id = 'msl-copilot')`);
      const cold = await planRegistry(db, options(dir, vec));
      if (!cold.ok) throw new Error('registry invalid');
      const drifted = cold.plan.changes.map((c) => [c.action, c.id, c.fields.map((f) => f.path).sort()]);
      expect(drifted).toEqual([
        ['update', 'literature-summary', ['name']],
        ['update', 'msl-copilot', ['prompts[literature-summary]', 'prompts[msl-kol-briefing]']],
      ]);

      // The session plans against what it read; after a refresh it sees the drift too.
      await session.refreshLive(db);
      const warm = session.update([]);
      expect(warm.plan!.changes).toEqual(cold.plan.changes);
      expect(asSaved(warm.plan!)).toEqual(asSaved(cold.plan));
    });
  });
}

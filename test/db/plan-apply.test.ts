import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApplyRefusedError } from '../../src/apply/apply.ts';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { backendsAndSchemas } from '../support/databases.ts';
import { apply, copyRegistry, edit, openApplied, plan } from '../support/registry.ts';

for (const backend of backendsAndSchemas) {
  describe(`plan and apply on ${backend.label}`, () => {
    const vec = backend.vector;
    let db: Database;
    afterEach(async () => db?.close());

    it('applies the example registry, after which the plan is empty', async () => {
      db = await backend.open();
      const dir = copyRegistry();
      const first = await apply(db, dir, vec);
      expect(first.status).toBe('applied');
      if (first.status !== 'applied') return;
      expect(first.plan.summary.create).toBeGreaterThanOrEqual(80);
      const again = await plan(db, dir, vec);
      expect(again.plan.schema).toEqual([]);
      expect(again.plan.changes).toEqual([]);
      expect(again.plan.summary.unchanged).toBe(first.plan.summary.create);
      expect(again.statements).toEqual([]);
      const agents = await db.pool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM agents WHERE deleted_at IS NULL`,
      );
      expect(agents).toBe(first.plan.changes.filter((c) => c.kind === 'Agent').length);
    });

    it('plans exactly one field change, with its file and line, and applies it with a version bump', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      edit(
        dir,
        'platform/prompts.yaml',
        'complexity_level: Medium\ncontent: |\n  Summarise the publication',
        'complexity_level: High\ncontent: |\n  Summarise the publication',
      );
      const { plan: p } = await plan(db, dir, vec);
      expect(
        p.changes.map((c) => ({
          action: c.action,
          kind: c.kind,
          id: c.id,
          fields: c.fields,
          line: c.source?.line,
          file: c.source?.file.split('/').slice(-2).join('/'),
        })),
      ).toEqual([
        {
          action: 'update',
          kind: 'Prompt',
          id: 'literature-summary',
          fields: [{ path: 'complexity_level', segments: ['complexity_level'], before: 'Medium', after: 'High' }],
          line: 54,
          file: 'platform/prompts.yaml',
        },
      ]);
      const applied = await apply(db, dir, vec);
      expect(applied.status).toBe('applied');
      const row = await db.pool.one(
        sql.type(
          z.object({ complexity_level: z.string(), version: z.number() }),
        )`SELECT complexity_level, version FROM prompts WHERE unique_id = 'literature-summary' AND tenant_id IS NULL`,
      );
      expect(row).toEqual({ complexity_level: 'High', version: 2 });
      const versions = await db.pool.anyFirst(
        sql.type(
          z.object({ version: z.number() }),
        )`SELECT v.version FROM entity_versions v JOIN prompts p ON p.id = v.entity_id WHERE p.unique_id = 'literature-summary' AND p.tenant_id IS NULL ORDER BY v.version`,
      );
      expect(versions).toEqual([1, 2]);
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('adds and removes relation entries to match the registry', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      edit(
        dir,
        'platform/agents.yaml',
        'tools: [pubmed-search, clinicaltrials-gov, fda-label-lookup]',
        'tools: [pubmed-search, meddra-browser]',
      );
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes).toHaveLength(1);
      expect(p.changes[0]!.fields).toEqual([
        {
          path: 'tools[clinicaltrials-gov]',
          segments: ['tools', { entry: 'clinicaltrials-gov' }],
          before: { tool: 'clinicaltrials-gov' },
          after: null,
        },
        {
          path: 'tools[fda-label-lookup]',
          segments: ['tools', { entry: 'fda-label-lookup' }],
          before: { tool: 'fda-label-lookup' },
          after: null,
        },
        {
          path: 'tools[meddra-browser]',
          segments: ['tools', { entry: 'meddra-browser' }],
          before: null,
          after: { tool: 'meddra-browser' },
        },
      ]);
      await apply(db, dir, vec);
      const tools = await db.pool.anyFirst(sql.type(z.object({ unique_id: z.string() }))`
        SELECT t.unique_id FROM agent_tools at JOIN agents a ON a.id = at.agent_id JOIN tools t ON t.id = at.tool_id WHERE a.unique_id = 'msl-copilot' ORDER BY 1`);
      expect(tools).toEqual(['meddra-browser', 'pubmed-search']);
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('plans a removed asset as an ownership-scoped delete that needs --allow-delete, and never touches rows it does not manage', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      // A tenant's own assets, created by the application at run time: not Canon's.
      await db.pool.query(
        sql.unsafe`INSERT INTO prompts (unique_id, name, content) VALUES ('app-made', 'Made by the app', 'x')`,
      );
      rmSync(join(dir, 'tenants/helix-bio/translational.yaml'));
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes.map((c) => [c.action, c.kind, c.id, c.tenant])).toEqual([
        ['delete', 'JobToBeDone', 'choose-lead-biomarker', 'helix-bio'],
        ['delete', 'Agent', 'helix-translational-analyst', 'helix-bio'],
        ['delete', 'Skill', 'biomarker-analysis', 'helix-bio'],
      ]);
      await expect(apply(db, dir, vec)).rejects.toThrow(ApplyRefusedError);
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM agents WHERE unique_id = 'helix-translational-analyst' AND deleted_at IS NULL`,
        ),
      ).toBe(1);
      const applied = await apply(db, dir, vec, { allowDelete: true });
      expect(applied.status).toBe('applied');
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM agents WHERE unique_id = 'helix-translational-analyst' AND deleted_at IS NOT NULL`,
        ),
      ).toBe(1);
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM prompts WHERE unique_id = 'app-made' AND deleted_at IS NULL`,
        ),
      ).toBe(1);
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('hard-deletes with --hard-delete, relation rows included', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      rmSync(join(dir, 'tenants/helix-bio/translational.yaml'));
      await apply(db, dir, vec, { allowDelete: true, deleteMode: 'hard' });
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM agents WHERE unique_id = 'helix-translational-analyst'`,
        ),
      ).toBe(0);
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM skill_prerequisites sp JOIN skills s ON s.id = sp.skill_id WHERE s.unique_id = 'biomarker-analysis'`,
        ),
      ).toBe(0);
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('restores a soft-deleted asset that comes back to the registry', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const removed = copyRegistry(dir);
      rmSync(join(removed, 'tenants/helix-bio/translational.yaml'));
      await apply(db, removed, vec, { allowDelete: true });
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes.map((c) => [c.action, c.id, c.restore])).toEqual([
        ['update', 'biomarker-analysis', true],
        ['update', 'helix-translational-analyst', true],
        ['update', 'choose-lead-biomarker', true],
      ]);
      await apply(db, dir, vec);
      expect(
        await db.pool.oneFirst(
          sql.unsafe`SELECT count(*)::int FROM agents WHERE unique_id = 'helix-translational-analyst' AND deleted_at IS NULL`,
        ),
      ).toBe(1);
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('refuses to overwrite a row it does not manage, and takes it over when the asset names its uuid', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const existing = await db.pool.oneFirst(
        sql.type(
          z.object({ id: z.string() }),
        )`INSERT INTO tools (unique_id, name) VALUES ('legacy-tool', 'Legacy') RETURNING id`,
      );
      const asset = 'kind: Tool\nid: legacy-tool\nname: Legacy tool, now in the registry\n';
      const { writeFileSync } = await import('node:fs');
      writeFileSync(join(dir, 'platform/legacy.yaml'), asset);
      const conflicted = await plan(db, dir, vec);
      expect(conflicted.plan.diagnostics.map((d) => [d.code, d.line])).toEqual([['CANON402', 2]]);
      expect(conflicted.plan.diagnostics[0]!.message).toContain(`set uuid: ${existing}`);
      await expect(apply(db, dir, vec)).resolves.toMatchObject({ status: 'invalid' });
      writeFileSync(join(dir, 'platform/legacy.yaml'), `${asset}uuid: ${existing}\n`);
      const adopted = await apply(db, dir, vec);
      expect(adopted.status).toBe('applied');
      expect(await db.pool.oneFirst(sql.unsafe`SELECT name FROM tools WHERE id = ${existing}`)).toBe(
        'Legacy tool, now in the registry',
      );
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });

    it('refuses a saved plan once the registry or the database moved', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 500');
      const saved = (await plan(db, dir, vec)).plan;
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 500', 'avg_response_time_ms: 550');
      await expect(apply(db, dir, vec, { saved })).rejects.toThrow('the saved plan is stale: the registry changed');
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 550', 'avg_response_time_ms: 500');
      await db.pool.query(
        sql.unsafe`UPDATE tools SET name = 'Edited behind Canon''s back' WHERE unique_id = 'pubmed-search'`,
      );
      await expect(apply(db, dir, vec, { saved })).rejects.toThrow('the saved plan is stale: the database changed');
      const fresh = (await plan(db, dir, vec)).plan;
      await expect(apply(db, dir, vec, { saved: fresh })).resolves.toMatchObject({ status: 'applied' });
      expect(await db.pool.oneFirst(sql.unsafe`SELECT name FROM tools WHERE unique_id = 'pubmed-search'`)).toBe(
        'PubMed Search',
      );
    });

    it('normalizes JSONB key order, numbers and block-scalar newlines: no spurious diffs', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      edit(
        dir,
        'platform/agents.yaml',
        'model_config: {model: gpt-4.1, temperature: 0.2, max_tokens: 2000}',
        'model_config: {max_tokens: 2000, temperature: 0.20, model: gpt-4.1}',
      );
      edit(dir, 'platform/tools.yaml', 'reliability_score: 0.98', 'reliability_score: 0.980');
      edit(
        dir,
        'platform/prompts.yaml',
        'prompt_type: system\ncategory: patient_engagement\ncontent: |\n',
        'prompt_type: system\ncategory: patient_engagement\ncontent: |+\n',
      );
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
    });
  });
}

import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { statementsFor } from '../../src/migrate/emit.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { backends, backendsAndSchemas } from '../support/databases.ts';
import { apply, catalog, copyRegistry, openApplied, plan } from '../support/registry.ts';
import { tenantUuid, uuidOf, writeTenancyRegistry } from '../support/tenancy-fixture.ts';

const knowledge = catalog.kinds.get('KnowledgeSource')!;

/** Runs `query` as the application role; `settings` are set for the transaction only. */
async function asRole<T>(
  db: Database,
  role: string,
  settings: Record<string, string>,
  query: (tx: any) => Promise<T>,
): Promise<T> {
  return db.pool.transaction(async (tx) => {
    await tx.query(sql.unsafe`SELECT set_config('role', ${role}, true)`);
    for (const [k, v] of Object.entries(settings)) await tx.query(sql.unsafe`SELECT set_config(${k}, ${v}, true)`);
    expect(await tx.oneFirst(sql.unsafe`SELECT current_user`)).toBe(role);
    return query(tx);
  });
}

const pglite = backends.find((b) => b.name === 'pglite')!;

describe('vector search across tenants (PGlite, pgvector)', () => {
  it("never returns another tenant's private chunks, however close they are", async () => {
    const db = await pglite.open();
    try {
      const result = await apply(db, writeTenancyRegistry(catalog), true, {
        schema: { embeddings: true, dimensions: 3 },
      });
      expect(result.status).toBe('applied');
      const chunk = (situation: 'own' | 'otherPrivate' | 'public', vector: string) =>
        db.pool.query(
          sql.unsafe`INSERT INTO knowledge_chunks (source_id, chunk_index, content, content_hash, embedding) VALUES (${uuidOf(knowledge, situation)}, 0, ${situation}, ${situation}, ${vector}::vector)`,
        );
      await chunk('own', '[1,0,0]');
      await chunk('otherPrivate', '[0.99,0.01,0]');
      await chunk('public', '[0,1,0]');
      const nearest = (tenant: string) =>
        asRole(db, 'canon_app', { 'app.current_tenant_id': tenantUuid(catalog, tenant) }, (tx) =>
          tx.anyFirst(
            sql.type(
              z.object({ content: z.string() }),
            )`SELECT content FROM knowledge_chunks ORDER BY embedding <=> '[1,0,0]'::vector LIMIT 10`,
          ),
        );
      // a owns 'own'; b's private chunk is the nearer match for b's own vector, but a never sees it.
      expect(await nearest('a')).toEqual(['own', 'public']);
      // p is a's parent: a parent does not see its child tenants' private assets.
      expect(await nearest('p')).toEqual(['public']);
      const all = await db.pool.anyFirst(
        sql.unsafe`SELECT content FROM knowledge_chunks ORDER BY embedding <=> '[1,0,0]'::vector`,
      );
      expect(all).toEqual(['own', 'otherPrivate', 'public']);
    } finally {
      await db.close();
    }
  });
});

for (const backend of backendsAndSchemas) {
  describe(`policies in the plan on ${backend.label}`, () => {
    it('leaves unchanged policies alone, and flags a change that widens access', async () => {
      const db = await openApplied(backend);
      try {
        const dir = copyRegistry();
        expect((await plan(db, dir, backend.vector)).plan.schema).toEqual([]);
        // Someone dropped a policy by hand: putting it back gives access that the database no longer gives.
        await db.pool.query(sql.unsafe`DROP POLICY canon_select ON prompts`);
        const widened = (await plan(db, dir, backend.vector)).plan;
        expect(widened.schema.map((c) => [c.kind, 'widens' in c && c.widens])).toEqual([['createPolicy', true]]);
        const json = JSON.parse(renderPlanJson(widened));
        expect(json.policy_changes).toEqual([
          expect.objectContaining({
            action: 'createPolicy',
            table: 'prompts',
            policy: 'canon_select',
            widens_access: true,
          }),
        ]);
        expect(json.schema_changes).toEqual([]);
        const widening = '**1 policy change widens what tenants can access**: create policy canon_select on prompts';
        expect(renderPlanMarkdown(widened)).toContain(widening);
        // A live policy that granted more than Canon wants: replacing it narrows access, and is not flagged.
        await apply(db, dir, backend.vector);
        await db.pool.query(
          sql.unsafe`COMMENT ON POLICY canon_update ON prompts IS 'canon:0000000000000000 grants=everyone,own,shared-delete,shared-edit'`,
        );
        const narrowed = (await plan(db, dir, backend.vector)).plan;
        expect(narrowed.schema.map((c) => [c.kind, 'replaces' in c && c.replaces, 'widens' in c && c.widens])).toEqual([
          ['createPolicy', true, false],
        ]);
      } finally {
        await db.close();
      }
    });
  });
}

const supabaseRoles = ['anon', 'authenticated'];

describe('Supabase mode: the tenant comes from the JWT claims', () => {
  for (const backend of backendsAndSchemas) {
    it(`on ${backend.label}`, async () => {
      const db = await backend.open();
      try {
        // Supabase's own auth.jwt(), as it defines it: the request's claims from a setting.
        await db.pool.query(sql.unsafe`CREATE SCHEMA auth`);
        await db.pool.query(
          sql.unsafe`CREATE FUNCTION auth.jwt() RETURNS jsonb LANGUAGE sql STABLE RETURN coalesce(nullif(current_setting('request.jwt.claims', true), ''), '{}')::jsonb`,
        );
        // Supabase's API roles, and its default privileges: every new function executable by both.
        // Made as Canon makes its own role: another test file may be making them at the same moment.
        for (const role of supabaseRoles) {
          const change = { kind: 'createRole', role, destructive: false, policy: true, widens: false } as const;
          for (const statement of statementsFor(change)) await db.pool.query(sql.unsafe`${statement}`);
        }
        await db.pool.query(sql.unsafe`CREATE SCHEMA IF NOT EXISTS ${sql.identifier([db.schema])}`);
        await db.pool.query(sql.unsafe`ALTER DEFAULT PRIVILEGES IN SCHEMA ${sql.identifier([db.schema])}
          GRANT EXECUTE ON FUNCTIONS TO anon, authenticated`);
        const tenancy = {
          mode: 'supabase' as const,
          setting: 'app.current_tenant_id',
          claim: 'tenant_id',
          appRole: 'canon_authenticated',
        };
        const result = await apply(db, writeTenancyRegistry(catalog), false, {
          schema: { embeddings: false, dimensions: 3, tenancy },
        });
        expect(result.status).toBe('applied');
        // PostgREST exposes functions to these roles: after the first apply none of Canon's is theirs.
        const callable = await db.pool.anyFirst(sql.unsafe`
          SELECT r.rolname || ' may call ' || p.proname FROM pg_proc p CROSS JOIN pg_roles r
          WHERE p.pronamespace = ${db.schema}::regnamespace AND p.proname LIKE 'canon%'
            AND r.rolname = ANY(${sql.array(supabaseRoles, 'text')})
            AND has_function_privilege(r.oid, p.oid, 'EXECUTE') ORDER BY 1`);
        expect(callable).toEqual([]);
        const helpers = await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM pg_proc p
          WHERE p.pronamespace = ${db.schema}::regnamespace AND p.proname LIKE 'canon%'`);
        expect(helpers).toBeGreaterThan(2);
        const prompts = catalog.kinds.get('Prompt')!;
        const visible = (claims: Record<string, string>): Promise<string[]> =>
          asRole(db, tenancy.appRole, { 'request.jwt.claims': JSON.stringify(claims) }, (tx) =>
            tx.anyFirst(
              sql.type(
                z.object({ id: z.string() }),
              )`SELECT id FROM prompts WHERE id = ANY(${sql.array([uuidOf(prompts, 'own'), uuidOf(prompts, 'otherPrivate'), uuidOf(prompts, 'public')], 'uuid')}) ORDER BY unique_id`,
            ),
          );
        expect((await visible({ tenant_id: tenantUuid(catalog, 'a') })).sort()).toEqual(
          [uuidOf(prompts, 'own'), uuidOf(prompts, 'public')].sort(),
        );
        expect(await visible({})).toEqual([uuidOf(prompts, 'public')]);
      } finally {
        await db.close();
      }
    });
  }
});

describe('references to assets a tenant cannot see', () => {
  for (const backend of backendsAndSchemas) {
    it(`cannot be written, so they cannot probe for private assets, on ${backend.label}`, async () => {
      const db = await backend.open();
      try {
        expect((await apply(db, writeTenancyRegistry(catalog), false)).status).toBe('applied');
        const agent = catalog.kinds.get('Agent')!;
        const prompt = catalog.kinds.get('Prompt')!;
        const workflow = catalog.kinds.get('Workflow')!;
        const a = tenantUuid(catalog, 'a');
        const attempt = (statement: ReturnType<typeof sql.unsafe>) =>
          asRole(db, 'canon_app', { 'app.current_tenant_id': a }, async (tx) => {
            await tx.query(sql.unsafe`SAVEPOINT probe`);
            try {
              await tx.query(statement);
              return 'written';
            } catch (e) {
              await tx.query(sql.unsafe`ROLLBACK TO SAVEPOINT probe`);
              return /row-level security/.test(String((e as Error).message)) ? 'denied' : String((e as Error).message);
            }
          });
        const link = (target: 'otherPrivate' | 'published') =>
          sql.unsafe`INSERT INTO agent_prompts (agent_id, prompt_id) VALUES (${uuidOf(agent, 'own')}, ${uuidOf(prompt, target)})`;
        expect(await attempt(link('otherPrivate'))).toBe('denied');
        expect(await attempt(link('published'))).toBe('written');
        const task = (target: 'otherPrivate' | 'own') =>
          sql.unsafe`INSERT INTO tasks (unique_id, title, tenant_id, workflow_id) VALUES ('probe', 'Probe', ${a}, ${uuidOf(workflow, target)})`;
        expect(await attempt(task('otherPrivate'))).toBe('denied');
        expect(await attempt(task('own'))).toBe('written');
        // A reference within the same table (an agent's parent) goes through canon_asset_visible().
        const fork = (target: 'otherPrivate' | 'published' | 'sharedView') =>
          sql.unsafe`INSERT INTO agents (unique_id, name, tenant_id, parent_agent_id) VALUES (${`fork-of-${target}`}, 'Fork', ${a}, ${uuidOf(agent, target)})`;
        expect(await attempt(fork('otherPrivate'))).toBe('denied');
        expect(await attempt(fork('published'))).toBe('written');
        expect(await attempt(fork('sharedView'))).toBe('written');
      } finally {
        await db.close();
      }
    });
  }
});

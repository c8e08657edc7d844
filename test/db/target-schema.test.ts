import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config.ts';
import { DatabaseError } from '../../src/db/errors.ts';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { createDevPlanner } from '../../src/tui/session-adapter.ts';
import { canon } from '../support/cli.ts';
import { backendsAndSchemas, pgliteDataFolder } from '../support/databases.ts';
import { apply, catalog, copyRegistry, openApplied, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

/**
 * `schema: registry` beside a legacy database: the seed's database already has tables named agents
 * and prompts in public, with rows Canon never wrote. Canon's clean tables go into the schema
 * registry and leave public exactly as it was.
 */
const legacy = async (db: Database) => {
  await db.pool.query(sql.unsafe`CREATE TABLE public.agents (
    id serial PRIMARY KEY, name text NOT NULL, unique_id text, status text DEFAULT 'FINAL')`);
  await db.pool.query(sql.unsafe`CREATE TABLE public.prompts (id serial PRIMARY KEY, title text, body text)`);
  await db.pool.query(sql.unsafe`INSERT INTO public.agents (name, unique_id, status)
    VALUES ('MSL Copilot', 'msl-copilot', 'FINAL'), ('Legacy Bot', NULL, 'draft'), ('ünïcode agent', 'DH_3', NULL)`);
  await db.pool.query(sql.unsafe`INSERT INTO public.prompts (title, body)
    VALUES ('literature-summary', E'old text\n'), ('orphan', NULL)`);
};

/** Everything about public's tables a careless migration could change: rows, columns, ACLs, RLS, policies, triggers, indexes. */
const publicState = (db: Database) =>
  db.pool.oneFirst(sql.type(z.object({ state: z.string() }))`
    SELECT concat_ws(' / ',
      (SELECT md5(string_agg(a::text, '|' ORDER BY a.id)) FROM public.agents a),
      (SELECT md5(string_agg(p::text, '|' ORDER BY p.id)) FROM public.prompts p),
      (SELECT string_agg(concat_ws(':', c.relname, c.relkind, c.relacl, c.relrowsecurity, c.relforcerowsecurity),
          ',' ORDER BY c.relname)
        FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace),
      (SELECT string_agg(c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ','
          ORDER BY c.relname, a.attnum)
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r' AND a.attnum > 0),
      (SELECT count(*) FROM pg_policy pol JOIN pg_class c ON c.oid = pol.polrelid
        WHERE c.relnamespace = 'public'::regnamespace)::text,
      (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = 'public'::regnamespace)::text,
      (SELECT count(*) FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND proname LIKE 'canon%')::text
    ) AS state`);

const count = (db: Database, query: ReturnType<typeof sql.unsafe>) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`SELECT (${query})::int AS n`);

for (const backend of backendsAndSchemas.filter((b) => b.schema === 'registry')) {
  describe(`Canon in schema registry beside a legacy public schema, on ${backend.label}`, () => {
    let db: Database;
    afterEach(async () => db?.close());

    it('apply and plan leave public.agents, public.prompts and their rows untouched', async () => {
      // A legacy database often has pgvector installed in public: `vector` must still resolve.
      db = await backend.openPrepared('legacy public schema', async (d) => {
        if (d.backend === 'pglite') await d.pool.query(sql.unsafe`CREATE EXTENSION vector SCHEMA public`);
        await legacy(d);
      });
      expect(db.schema).toBe('registry');
      const before = await publicState(db);
      const dir = copyRegistry();
      const applied = await apply(db, dir, backend.vector);
      expect(applied.status).toBe('applied');
      if (applied.status !== 'applied') return;
      expect(applied.plan.schema[0]).toMatchObject({ kind: 'createSchema', name: 'registry' });
      // The legacy rows are not Canon's: nothing to take over, nothing in the way.
      expect(applied.plan.diagnostics).toEqual([]);
      const again = await plan(db, dir, backend.vector);
      expect(again.plan.schema).toEqual([]);
      expect(again.plan.changes).toEqual([]);
      expect(await publicState(db)).toBe(before);

      const agents = applied.plan.changes.filter((c) => c.kind === 'Agent').length;
      expect(await count(db, sql.unsafe`SELECT count(*) FROM registry.agents`)).toBe(agents);
      expect(await count(db, sql.unsafe`SELECT count(*) FROM public.agents`)).toBe(3);
      // Every object Canon made is in registry; public holds only what it held.
      expect(
        await count(
          db,
          sql.unsafe`SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace
          AND relname NOT LIKE 'agents%' AND relname NOT LIKE 'prompts%'`,
        ),
      ).toBe(0);
      expect(
        await count(
          db,
          sql.unsafe`SELECT count(*) FROM pg_class WHERE relnamespace = 'registry'::regnamespace
          AND relname = 'canon_managed_rows'`,
        ),
      ).toBe(1);
      if (backend.vector) {
        const extension = await db.pool.oneFirst(
          sql.unsafe`SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'vector'`,
        );
        expect(extension).toBe('public');
        const embedding = await db.pool.oneFirst(sql.unsafe`
          SELECT format_type(atttypid, atttypmod) FROM pg_attribute
          WHERE attrelid = 'registry.knowledge_chunks'::regclass AND attname = 'embedding'`);
        expect(embedding).toBe('vector(8)');
      }
    });

    it('canon dev works in the schema it started with, and refuses to apply once canon.yaml names another', async () => {
      db = await backend.open();
      const dir = copyRegistry();
      const settings = join(dir, 'canon.yaml');
      const original = readFileSync(settings, 'utf8');
      writeFileSync(settings, `${original}\nschema: registry\n`);
      const planner = createDevPlanner({
        dir,
        catalog,
        deleteMode: 'soft',
        noEmbeddings: !backend.vector,
        statementTimeoutMs: 60_000,
        lockTimeoutMs: 5_000,
      });
      expect(planner.databaseSchema).toBe('registry');
      await planner.refresh(db);
      expect(planner.replan().plan?.databaseSchema).toBe('registry');
      writeFileSync(settings, `${original}\nschema: other\n`);
      const changed = planner.replan([settings]);
      expect(changed.settingsChanged).toBe(true);
      await planner.refresh(db);
      const outcome = await planner.apply(db, planner.replan().plan!, false);
      expect(outcome).toEqual({
        status: 'refused',
        message:
          'canon.yaml now names schema other, but this view works in schema registry; nothing was changed. ' +
          'Restart canon dev',
      });
      expect(
        await count(db, sql.unsafe`SELECT count(*) FROM pg_namespace WHERE nspname IN ('registry', 'other')`),
      ).toBe(0);
    });

    it('the application role may use the schema, never create in it; Canon refuses to plan if it can', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const rights = await db.pool.one(sql.type(z.object({ usage: z.boolean(), create: z.boolean() }))`
        SELECT has_schema_privilege('canon_app', 'registry', 'USAGE') AS usage,
          has_schema_privilege('canon_app', 'registry', 'CREATE') AS create`);
      expect(rights).toEqual({ usage: true, create: false });
      // Someone grants it: a tenant could now plant an overload of a function Canon's sessions call.
      await db.pool.query(sql.unsafe`GRANT CREATE ON SCHEMA registry TO canon_app`);
      await expect(plan(db, dir, backend.vector)).rejects.toThrow(
        new DatabaseError(
          `the application role canon_app can create objects in schema registry of ${db.label}, which Canon's ` +
            'sessions search: a tenant could plant a function Canon would call. Revoke it first: ' +
            'REVOKE CREATE ON SCHEMA "registry" FROM PUBLIC, "canon_app"',
        ),
      );
      await db.pool.query(sql.unsafe`REVOKE CREATE ON SCHEMA registry FROM PUBLIC, canon_app`);
      expect((await plan(db, dir, backend.vector)).plan.changes).toEqual([]);
    });
  });
}

describe('schema: in canon.yaml and --schema', () => {
  const withSettings = (text: string) => {
    const dir = copyRegistry();
    writeFileSync(join(dir, 'canon.yaml'), text);
    return dir;
  };

  it('a bad schema name is a located error with a stable code', () => {
    for (const [value, why] of [
      ['Registry', 'lower-case letters'],
      ['pg_canon', 'reserved'],
      ['information_schema', 'reserved'],
      ['3rd', 'not starting with a digit'],
      ['[registry]', 'must be a string'],
      [`${'x'.repeat(64)}`, 'at most 63'],
    ] as const) {
      const dir = withSettings(`# settings\nschema: ${value}\n`);
      const { config, diagnostics } = loadConfig(dir, dir);
      expect(config.schema).toBeUndefined();
      expect(diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`)).toEqual(['canon.yaml:2:9 CANON208']);
      expect(diagnostics[0]!.message).toContain(why);
    }
    const { config, diagnostics } = loadConfig(withSettings('schema: registry\n'), '.');
    expect(diagnostics).toEqual([]);
    expect(config.schema).toBe('registry');
  });

  it('plan names the schema; a plan saved for one schema refuses to apply to another', async () => {
    const database = `pglite:${await pgliteDataFolder('canon-schema-')}`;
    const dir = withSettings(`${readFileSync(join('registry', 'canon.yaml'), 'utf8')}\nschema: registry\n`);
    const args = ['--dir', dir, '--database', database];
    const markdown = await canon(['plan', ...args, '--format', 'markdown']);
    expect(markdown.status).toBe(0);
    expect(markdown.stdout.split('\n')[0]).toMatch(/^<!-- canon-plan: .*db \(schema registry\) -->$/);
    const out = join(tempDir('canon-plan-'), 'plan.json');
    expect((await canon(['plan', ...args, '--out', out])).status).toBe(0);
    const saved = JSON.parse(readFileSync(out, 'utf8'));
    expect(saved.database_schema).toBe('registry');

    const elsewhere = await canon(['apply', out, ...args, '--schema', 'other']);
    expect(elsewhere.stderr).toBe(
      'canon apply: the saved plan was made for schema registry, not other; nothing was changed. ' +
        "Run 'canon plan' for this schema and review its plan\n",
    );
    expect(elsewhere.status).toBe(1);
    // Claiming the other schema in the file does not help: the plan hash covers the schema.
    writeFileSync(out, JSON.stringify({ ...saved, database_schema: 'other' }));
    const forged = await canon(['apply', out, ...args, '--schema', 'other']);
    expect(forged.stderr).toMatch(/^canon apply: the saved plan was made for another database/);
    expect(forged.status).toBe(1);
    writeFileSync(out, JSON.stringify(saved));
    expect((await canon(['apply', out, ...args])).status).toBe(0);
    const after = await canon(['plan', ...args, '--format', 'json']);
    expect(JSON.parse(after.stdout).summary.create).toBe(0);
    const text = await canon(['plan', ...args]);
    expect(text.stdout).toMatch(/^No changes\. .*db \(schema registry\) matches the registry/m);
    // The public schema of the same database is still empty: --schema public plans everything anew.
    const inPublic = await canon(['plan', ...args, '--schema', 'public', '--format', 'json']);
    expect(JSON.parse(inPublic.stdout).summary.create).toBe(saved.summary.create);
  });

  it("embed and search never take another schema's tables of the same names for Canon's", async () => {
    const database = `pglite:${await pgliteDataFolder('canon-schema-')}`;
    const dir = copyRegistry();
    // Canon applied in public, pgvector with it: public is in the search_path of schema registry's sessions.
    expect((await canon(['apply', '--dir', dir, '--database', database, '--auto-approve'])).status).toBe(0);
    const args = ['--dir', dir, '--database', database, '--schema', 'registry'];
    const search = await canon(['search', 'literature', ...args]);
    expect(search.stderr).toMatch(
      /^canon search: .*db has no Canon tables in schema registry; run 'canon apply' first\n$/,
    );
    expect(search.status).toBe(1);
    const embed = await canon(['embed', '--status', ...args]);
    expect(embed.stderr).toMatch(/^canon embed: .*db has no embedding queue yet; run 'canon apply' first\n$/);
    expect(embed.status).toBe(1);
    // The same commands in public find what apply made there.
    expect((await canon(['embed', '--status', '--dir', dir, '--database', database])).status).toBe(0);
  });

  it('a bad --schema is a usage error, before any database is opened', async () => {
    const result = await canon(['plan', '--database', 'memory:', '--schema', 'Registry; DROP']);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      'canon: --schema must be lower-case letters, digits and _ (not starting with a digit): ' +
        'name a PostgreSQL schema such as registry\n',
    );
  });
});

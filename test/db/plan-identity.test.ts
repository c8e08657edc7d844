import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApplyRefusedError } from '../../src/apply/apply.ts';
import { type Database, openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import type { Plan } from '../../src/plan/model.ts';
import { runCli } from '../support/cli.ts';
import { type Backend, backends } from '../support/databases.ts';
import { apply, copyRegistry, edit, openApplied, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const cli = runCli;

/** Two databases with the same content: their --database specs, and the second's plan (PGlite: two data folders). */
async function twins(backend: Backend, dir: string, planB: (db: Database) => Promise<Plan>) {
  if (backend.name === 'pglite') {
    const dataDirs = [0, 1].map(() => join(tempDir('canon-twin-'), 'db'));
    let theirs: Plan | undefined;
    for (const dataDir of dataDirs) {
      const db = await openDatabase({ backend: 'pglite', dataDir });
      await apply(db, dir, true, { schema: { embeddings: true, dimensions: 1536 } });
      theirs = await planB(db);
      await db.close();
    }
    return { specs: dataDirs.map((d) => `pglite:${d}`), theirs: theirs!, close: async () => {} };
  }
  const dbs = [await backend.open(), await backend.open()];
  const specs: string[] = [];
  for (const db of dbs) {
    await apply(db, dir, false);
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.pathname = `/${String(await db.pool.oneFirst(sql.unsafe`SELECT current_database()`))}`;
    specs.push(url.toString());
  }
  return {
    specs,
    theirs: await planB(dbs[1]!),
    close: async () => {
      for (const db of dbs) await db.close();
    },
  };
}

const forgedRefusal =
  'the saved plan does not match its plan_hash here: the file was edited, or made for another ' +
  "database; nothing was changed. Run 'canon plan' again";

for (const backend of backends) {
  describe(`a saved plan is bound to its database, on ${backend.name}`, () => {
    const vec = backend.vector;
    const opened: Database[] = [];
    afterEach(async () => {
      for (const db of opened.splice(0)) await db.close();
    });

    it('refuses a plan made against an identical twin database', async () => {
      const dir = copyRegistry();
      // Test PGlite databases start as copies of one data folder, which PostgreSQL itself takes for the
      // same database (same system identifier): a twin made by initdb is what this test needs.
      const twin = () =>
        backend.name === 'pglite' ? openDatabase({ backend: 'pglite', dataDir: null }) : backend.open();
      const [a, b] = [await backend.open(), await twin()];
      opened.push(a, b);
      await apply(a, dir, vec);
      await apply(b, dir, vec);
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const [planA, planB] = [(await plan(a, dir, vec)).plan, (await plan(b, dir, vec)).plan];
      // Same content, same changes: only the database they were made against differs.
      expect(planA.registryHash).toBe(planB.registryHash);
      expect(planA.liveHash).toBe(planB.liveHash);
      expect(planA.databaseId).not.toBe(planB.databaseId);
      await expect(apply(b, dir, vec, { saved: planA })).rejects.toThrow(
        new ApplyRefusedError(
          `the saved plan was made for another database, not ${b.label}; nothing was changed. ` +
            "Run 'canon plan' against this database and review its plan",
        ),
      );
      // Claiming the twin's identity does not help: the plan's hash covers the identity it was made with.
      await expect(apply(b, dir, vec, { saved: { ...planA, databaseId: planB.databaseId! } })).rejects.toThrow(
        forgedRefusal,
      );
      expect(
        await b.pool.oneFirst(sql.unsafe`
        SELECT avg_response_time_ms FROM tools WHERE unique_id = 'pubmed-search'`),
      ).toBe(450);
      await expect(apply(b, dir, vec, { saved: planB })).resolves.toMatchObject({ status: 'applied' });
    });

    it('the same database keeps its identity from one connection to the next', async () => {
      const dir = copyRegistry();
      const db = await openApplied(backend);
      opened.push(db);
      const [first, second] = [(await plan(db, dir, vec)).plan, (await plan(db, dir, vec)).plan];
      expect(first.databaseId).toMatch(/^[0-9a-f]{64}$/);
      expect(second.databaseId).toBe(first.databaseId);
      expect(second.planHash).toBe(first.planHash);
    });

    it('canon apply plan.json refuses another database, even with the file edited to name it', async () => {
      const dir = copyRegistry();
      const edited = copyRegistry(dir);
      edit(edited, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 455');
      const embeddings = { schema: { embeddings: vec, dimensions: 1536 } };
      const twin = await twins(backend, dir, async (db) => (await plan(db, edited, vec, embeddings)).plan);
      try {
        const [specA, specB] = twin.specs as [string, string];
        const flags = vec ? [] : ['--no-embeddings'];
        const out = join(tempDir('canon-plan-'), 'plan.json');
        expect((await cli(['plan', '--dir', edited, '--database', specA, ...flags, '--out', out])).status).toBe(0);
        const saved = JSON.parse(readFileSync(out, 'utf8'));
        writeFileSync(out, JSON.stringify({ ...saved, database: twin.theirs.database }, null, 2));
        const refused = await cli(['apply', out, '--dir', edited, '--database', specB, ...flags]);
        expect(refused.stderr).toMatch(
          new RegExp(
            '^canon apply: the saved plan was made for another database, not .*; ' +
              "nothing was changed\\. Run 'canon plan' against this database and review its plan\n$",
          ),
        );
        expect(refused.status).toBe(1);
        const forgery = { ...saved, database: twin.theirs.database, database_id: twin.theirs.databaseId };
        writeFileSync(out, JSON.stringify(forgery, null, 2));
        const forged = await cli(['apply', out, '--dir', edited, '--database', specB, ...flags]);
        expect(forged.stderr).toBe(`canon apply: ${forgedRefusal}\n`);
        expect(forged.status).toBe(1);
      } finally {
        await twin.close();
      }
    }, 180_000);
  });
}

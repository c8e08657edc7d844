import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { driftRegistry } from '../../src/drift/drift.ts';
import { writeDrift } from '../../src/drift/write.ts';
import { shapesOf } from '../../src/plan/shape.ts';
import { type Backend, backendsAndSchemas } from '../support/databases.ts';
import { apply, catalog, copyRegistry, edit, openApplied, options, plan } from '../support/registry.ts';

// One folder per case: registry/ is applied to a fresh database, edits.sql changes rows behind
// Canon's back, drift.json names the assets and fields `canon drift` must report (exactly those),
// and expected/ holds the files `canon drift --write` must leave (files not there stay byte-identical).
const casesDir = join(import.meta.dirname, '..', 'golden', 'drift');
const shapes = shapesOf(catalog);

/**
 * A .sql file of test data, run as written: its text goes to the server as a parameter and a
 * session-local function EXECUTEs it statement by statement, so no SQL is built from strings here.
 */
async function runSqlFile(db: Database, file: string) {
  const text = readFileSync(file, 'utf8').replace(/^--.*$/gm, '');
  const statements = text
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter(Boolean);
  await db.pool.connect(async (connection) => {
    await connection.query(
      sql.unsafe`CREATE FUNCTION pg_temp.run_test_sql(statement text) RETURNS void LANGUAGE plpgsql
        AS $$ BEGIN EXECUTE statement; END $$`,
    );
    for (const statement of statements) await connection.query(sql.unsafe`SELECT pg_temp.run_test_sql(${statement})`);
  });
}

const driftOf = async (db: Database, dir: string, embeddings: boolean) => {
  const outcome = await driftRegistry(db, options(dir, embeddings));
  if (!outcome.ok) throw new Error(outcome.diagnostics.map((d) => d.message).join('; '));
  return outcome;
};

/** A private copy of the jsonb-relation-unicode case's registry, which several tests start from. */
const unicodeCase = () => copyRegistry(join(casesDir, 'jsonb-relation-unicode', 'registry'));

/** A database of its own in which that registry is applied (prepared once per run, copied per test). */
const openUnicodeCase = (backend: Backend) =>
  backend.openPrepared('jsonb-relation-unicode applied', async (db) => {
    const outcome = await apply(db, unicodeCase(), backend.vector);
    if (outcome.status !== 'applied') throw new Error(`the case did not apply: ${outcome.status}`);
  });

const listed = (entries: { kind: string; id: string; fields: { path: string }[] }[]) =>
  entries.map((e) => ({ kind: e.kind, id: e.id, paths: e.fields.map((f) => f.path).sort() }));

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name).slice(dir.length + 1))
    .sort();

for (const backend of backendsAndSchemas) {
  describe(`canon drift on ${backend.label}`, () => {
    for (const name of readdirSync(casesDir).sort()) {
      it(`golden case ${name}: drift lists exactly the edits, --write gives expected/, plan is then 0`, async () => {
        const caseDir = join(casesDir, name);
        const dir = copyRegistry(join(caseDir, 'registry'));
        const db = await backend.open();
        try {
          expect((await apply(db, dir, backend.vector)).status).toBe('applied');
          expect((await driftOf(db, dir, backend.vector)).entries).toEqual([]);

          await runSqlFile(db, join(caseDir, 'edits.sql'));
          const found = await driftOf(db, dir, backend.vector);
          const expected = JSON.parse(readFileSync(join(caseDir, 'drift.json'), 'utf8')) as ReturnType<typeof listed>;
          expect(listed(found.entries)).toEqual(expected.map((e) => ({ ...e, paths: [...e.paths].sort() })));
          for (const e of found.entries) {
            expect(e.registry).toBe('differs');
            expect(e.updatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
          }

          // The plan overwrites exactly that drift, and says so on each update.
          const before = (await plan(db, dir, backend.vector)).plan;
          const byId = (x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id);
          const marked = before.changes.map((c) => ({
            kind: c.kind,
            id: c.id,
            paths: [...(c.drift?.paths ?? [])].sort(),
          }));
          expect(marked.sort(byId)).toEqual(listed(found.entries).sort(byId));

          const written = writeDrift(found.entries, shapes, found.label);
          expect(written.skipped).toEqual([]);
          const expectedFiles = filesUnder(join(caseDir, 'expected'));
          expect(written.files.map((f) => relative(dir, resolve(f))).sort()).toEqual(expectedFiles);
          for (const file of filesUnder(dir)) {
            const want = expectedFiles.includes(file)
              ? join(caseDir, 'expected', file)
              : join(caseDir, 'registry', file);
            expect(readFileSync(join(dir, file), 'utf8'), file).toBe(readFileSync(want, 'utf8'));
          }

          const after = (await plan(db, dir, backend.vector)).plan;
          expect(after.changes).toEqual([]);
          const again = await driftOf(db, dir, backend.vector);
          expect(again.entries.map((e) => e.registry)).toEqual(found.entries.map(() => 'matches'));
        } finally {
          await db.close();
        }
      });
    }

    it('the example registry: edits in every file style, --write keeps every other line, plan is then 0', async () => {
      const dir = copyRegistry();
      const db = await openApplied(backend);
      try {
        const before = new Map(filesUnder(dir).map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
        // Block literals grow a line, JSONB gains a key (flow maps, block maps, absent), a tool leaves
        // flow and block lists.
        await db.pool.query(sql.unsafe`UPDATE prompts SET content = content || E'Antworte auf Deutsch — Ωmega ✓\n'`);
        await db.pool.query(sql.unsafe`UPDATE agents SET model_config = coalesce(model_config, '{}') || '{"seed": 7}'`);
        await db.pool.query(
          sql.unsafe`DELETE FROM agent_tools WHERE tool_id = (SELECT id FROM tools WHERE unique_id = 'pubmed-search')`,
        );
        const found = await driftOf(db, dir, backend.vector);
        const prompts = found.entries.filter((e) => e.kind === 'Prompt');
        const agents = found.entries.filter((e) => e.kind === 'Agent');
        expect(prompts.length + agents.length).toBe(found.entries.length);
        expect(prompts.every((e) => e.fields.map((f) => f.path).join() === 'content')).toBe(true);
        expect(agents.every((e) => e.fields.some((f) => f.path.startsWith('model_config')))).toBe(true);

        const written = writeDrift(found.entries, shapes, found.label);
        expect(written.skipped).toEqual([]);
        expect(written.adopted).toHaveLength(found.entries.length);
        expect((await plan(db, dir, backend.vector)).plan.changes).toEqual([]);
        // Every line of the old files is still there, in order, but for one per JSONB value and tool list edited.
        let dropped = 0;
        for (const [file, old] of before) {
          const now = readFileSync(join(dir, file), 'utf8').split('\n');
          let at = 0;
          for (const line of old.split('\n')) {
            const found = now.indexOf(line, at);
            if (found === -1) dropped++;
            else at = found + 1;
          }
          const comments = (text: string) => text.split('\n').filter((l) => /^\s*#/.test(l)).length;
          expect(comments(now.join('\n')), file).toBe(comments(old));
        }
        expect(dropped).toBeLessThanOrEqual(agents.length * 2);
      } finally {
        await db.close();
      }
    });

    it('takes only the drifted fields: a change the registry made itself stays, and plan still makes it', async () => {
      const dir = unicodeCase();
      const db = await openUnicodeCase(backend);
      try {
        await db.pool.query(
          sql.unsafe`UPDATE prompts SET content = 'Edited in the console.' WHERE unique_id = 'summary'`,
        );
        edit(dir, 'assets.yaml', 'name: "Literature summary"', 'name: "Literature summary v2"');

        const found = await driftOf(db, dir, backend.vector);
        expect(listed(found.entries)).toEqual([{ kind: 'Prompt', id: 'summary', paths: ['content'] }]);
        const planned = (await plan(db, dir, backend.vector)).plan.changes;
        expect(planned.map((c) => [c.id, c.drift?.paths, c.fields.map((f) => f.path)])).toEqual([
          ['summary', ['content'], ['name', 'content']],
        ]);

        expect(writeDrift(found.entries, shapes, found.label).skipped).toEqual([]);
        const text = readFileSync(join(dir, 'assets.yaml'), 'utf8');
        expect(text).toContain(
          'name: "Literature summary v2"\n# The prompt text, exactly as the model gets it.\n' +
            'content: Edited in the console.\n',
        );
        const after = (await plan(db, dir, backend.vector)).plan.changes;
        expect(after.map((c) => [c.id, c.drift, c.fields.map((f) => f.path)])).toEqual([
          ['summary', undefined, ['name']],
        ]);
      } finally {
        await db.close();
      }
    });

    it('a relation row added by SQL that points at a row Canon does not manage is listed, not written', async () => {
      const dir = unicodeCase();
      const db = await openUnicodeCase(backend);
      try {
        await db.pool.query(sql.unsafe`INSERT INTO tools (unique_id, name) VALUES ('app-made', 'Made by the app')`);
        await db.pool.query(sql.unsafe`INSERT INTO agent_tools (agent_id, tool_id)
          SELECT a.id, t.id FROM agents a, tools t WHERE a.unique_id = 'analyst' AND t.unique_id = 'app-made'`);
        const found = await driftOf(db, dir, backend.vector);
        expect(listed(found.entries)).toEqual([
          { kind: 'Agent', id: 'analyst', paths: [expect.stringMatching(/^tools\[[0-9a-f-]{36}\]$/)] },
        ]);
        const text = readFileSync(join(dir, 'assets.yaml'), 'utf8');
        const written = writeDrift(found.entries, shapes, found.label);
        expect(written.files).toEqual([]);
        expect(written.skipped.map((s) => s.reason)).toEqual([
          expect.stringMatching(/^references rows Canon does not manage \([0-9a-f-]{36}\); change it by hand$/),
        ]);
        expect(readFileSync(join(dir, 'assets.yaml'), 'utf8')).toBe(text);
      } finally {
        await db.close();
      }
    });

    it('a drifted row without a recorded version is listed without fields, and --write refuses it', async () => {
      const dir = unicodeCase();
      const db = await openUnicodeCase(backend);
      try {
        await db.pool.query(sql.unsafe`UPDATE tools SET name = 'PubMed (NLM)' WHERE unique_id = 'pubmed'`);
        await db.pool.query(
          sql.unsafe`DELETE FROM entity_versions WHERE entity_id = (SELECT id FROM tools WHERE unique_id = 'pubmed')`,
        );
        const found = await driftOf(db, dir, backend.vector);
        expect(listed(found.entries)).toEqual([{ kind: 'Tool', id: 'pubmed', paths: [] }]);
        expect(found.entries[0]!.applied).toBeUndefined();
        const written = writeDrift(found.entries, shapes, found.label);
        expect(written.files).toEqual([]);
        expect(written.skipped.map((s) => s.reason)).toEqual(['Canon kept no record of what it wrote']);
      } finally {
        await db.close();
      }
    });
  });
}

import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Database, openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { hasChanges } from '../../src/plan/model.ts';
import type { DevState } from '../../src/tui/state.ts';
import { backends, testServerUrl } from '../support/databases.ts';
import { devView, savedEntries } from '../support/dev.ts';
import { apply, copyRegistry, edit } from '../support/registry.ts';

// `canon dev` end to end below the terminal: the real watcher, plan session, database and apply,
// driven by saving files and pressing keys; assertions on the view's state.

const errorsOf = (s: DevState) => s.view?.diagnostics.filter((d) => d.severity === 'error') ?? [];
const planned = (s: DevState) => s.view?.plan != null && errorsOf(s).length === 0 && s.busy === null;
const lines = (s: DevState) => s.view!.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`);

for (const backend of backends) {
  describe(`canon dev on ${backend.name}`, () => {
    it('shows a typo and its did-you-mean, the plan once fixed, applies after y, closes the db on q', async () => {
      const dir = copyRegistry();
      const opened: Database[] = [];
      const dev = await devView(
        dir,
        async () => {
          const db = await backend.open();
          opened.push(db);
          return db;
        },
        { embeddings: backend.vector },
      );

      const first = await dev.until(planned, 'the first plan');
      expect(first.view!.plan!.summary.create).toBe(first.view!.assets);
      expect(first.view!.plan!.schema.length).toBeGreaterThan(0);

      edit(
        dir,
        'platform/agents.yaml',
        '- {prompt: literature-summary, usage: task}',
        '- {prompt: literature-sumary, usage: task}',
      );
      const typo = await dev.until((s) => errorsOf(s).length > 0, 'the typo');
      expect(lines(typo)).toEqual([
        "registry/platform/agents.yaml:29:14 CANON302 no Prompt with id 'literature-sumary' is visible to the " +
          "platform registry. Did you mean 'literature-summary'?",
      ]);
      expect(typo.view!.plan).toBeNull();
      expect(typo.status.text).toMatch(/^platform\/agents\.yaml saved → 1 error \(checked in \d+ ms\)$/);

      edit(dir, 'platform/agents.yaml', 'literature-sumary', 'literature-summary');
      const fixed = await dev.until(planned, 'the plan after the fix');
      expect(fixed.view!.plan!.summary).toEqual(first.view!.plan!.summary);

      dev.press('a');
      expect(dev.controller.state.mode.name).toBe('confirm');
      dev.press('y');
      const applied = await dev.until((s) => planned(s) && !hasChanges(s.view!.plan!), 'no changes after the apply');
      expect(applied.history.map((h) => h.text)).toContainEqual(
        expect.stringMatching(/^applied: \d+ created, 0 updated, 0 deleted, \d+ schema changes/),
      );
      expect(applied.history.at(-1)!.text).toMatch(/^re-read test-db in \d+ ms → re-planned in \d+ ms: no changes$/);

      edit(
        dir,
        'platform/prompts.yaml',
        'complexity_level: Medium\ncontent: |\n  Summarise the publication',
        'complexity_level: High\ncontent: |\n  Summarise the publication',
      );
      const updated = await dev.until((s) => planned(s) && hasChanges(s.view!.plan!), 'the field change');
      expect(updated.view!.plan!.changes.map((c) => [c.action, c.id, c.fields])).toEqual([
        [
          'update',
          'literature-summary',
          [{ path: 'complexity_level', segments: ['complexity_level'], before: 'Medium', after: 'High' }],
        ],
      ]);
      // One save, one re-plan: three saves so far.
      expect(savedEntries(updated)).toHaveLength(3);

      await dev.quit();
      expect(opened).toHaveLength(1);
      await expect(opened[0]!.pool.query(sql.unsafe`SELECT 1`)).rejects.toThrow();
      expect(dev.problems).toEqual([]);
    });

    it('survives half-written, renamed, removed, huge and rapidly saved files, and a vanished folder', async () => {
      const dir = copyRegistry();
      const dev = await devView(dir, () => backend.open(), { embeddings: backend.vector });
      const start = await dev.until(planned, 'the first plan');
      const summary = start.view!.plan!.summary;
      const same = (s: DevState) => planned(s) && JSON.stringify(s.view!.plan!.summary) === JSON.stringify(summary);

      const prompts = join(dir, 'platform/prompts.yaml');
      const whole = readFileSync(prompts, 'utf8');
      // Cut mid-document, as an editor's half-finished write leaves it: references into the lost half break.
      writeFileSync(prompts, whole.slice(0, Math.floor(whole.length / 2)));
      const half = await dev.until((s) => errorsOf(s).length > 0, 'the half-written file');
      expect(half.view!.plan).toBeNull();
      writeFileSync(prompts, whole);
      await dev.until(same, 'the plan after the file was completed');

      renameSync(join(dir, 'platform/tools.yaml'), join(dir, 'platform/tools-renamed.yaml'));
      const renamed = await dev.until(
        (s) => same(s) && s.view!.plan!.changes.some((c) => c.source?.file === 'registry/platform/tools-renamed.yaml'),
        'the renamed file',
      );
      expect(renamed.view!.diagnostics).toEqual([]);

      cpSync(join(dir, 'tenants/helix-bio'), join(dir, '..', 'helix-bio'), { recursive: true });
      rmSync(join(dir, 'tenants/helix-bio'), { recursive: true });
      const fewer = await dev.until(
        (s) => planned(s) && s.view!.plan!.summary.create < summary.create,
        'the plan without the removed folder',
      );
      expect(fewer.view!.plan!.summary.delete).toBe(0);
      cpSync(join(dir, '..', 'helix-bio'), join(dir, 'tenants/helix-bio'), { recursive: true });
      await dev.until(same, 'the plan with the folder back');

      writeFileSync(
        join(dir, 'platform/huge.yaml'),
        `kind: Prompt\nid: huge\nname: Huge\ncontent: "${'x'.repeat(5 * 1024 * 1024)}"\n`,
      );
      const huge = await dev.until(
        (s) => errorsOf(s).some((d) => d.code === 'CANON104'),
        'the file over the size limit',
      );
      expect(lines(huge)).toEqual([
        expect.stringMatching(
          /^registry\/platform\/huge\.yaml:1:1 CANON104 file is \d+ bytes, over the limit of \d+; split it/,
        ),
      ]);
      rmSync(join(dir, 'platform/huge.yaml'));
      await dev.until(same, 'the plan after the huge file went');

      // 200 saves in a few seconds: coalesced, and the last one wins.
      const roles = join(dir, 'platform/roles.yaml');
      const original = readFileSync(roles, 'utf8');
      const before = savedEntries(dev.controller.state).length;
      for (let i = 0; i < 200; i++) {
        writeFileSync(roles, original.replace('name: Medical Science Liaison', `name: Medical Science Liaison v${i}`));
        await new Promise((r) => setTimeout(r, 10));
      }
      const last = await dev.until(
        (s) =>
          planned(s) &&
          s.view!.plan!.changes.some((c) => c.fields.some((f) => f.after === 'Medical Science Liaison v199')),
        'the last of 200 saves',
      );
      expect(savedEntries(last).length - before).toBeLessThan(200);

      rmSync(dir, { recursive: true });
      const gone = await dev.until(
        (s) => errorsOf(s).some((d) => d.code === 'CANON112'),
        'the missing registry folder',
      );
      expect(gone.view!.plan).toBeNull();
      mkdirSync(dir);
      cpSync('registry', dir, { recursive: true });
      // Watched again (chokidar lost the folder when it went): only then is the next save seen as one.
      await dev.until(
        (s) => same(s) && s.history.some((h) => h.text.startsWith('registry created → ')),
        'the folder back',
      );

      // canon.yaml decides the schema (here: the policies' tenant setting): a new session, a new read.
      edit(dir, 'canon.yaml', 'setting: app.current_tenant_id', 'setting: app.tenant_id');
      const settings = await dev.until(
        (s) => planned(s) && s.history.some((h) => h.text.startsWith('canon.yaml changed the schema → read test-db')),
        'the plan after canon.yaml changed',
      );
      // The save itself is reported as the schema change it caused (asserted above), not twice.
      expect(settings.history.filter((h) => h.text.startsWith('canon.yaml')).length).toBeGreaterThan(0);
      expect(settings.view!.plan!.summary).toEqual(summary);

      await dev.quit();
      expect(dev.problems).toEqual([]);
    });
  });
}

describe.runIf(testServerUrl)('canon dev against a PostgreSQL server', () => {
  const vector = false;

  async function appliedServerDatabase() {
    const db = await backends.find((b) => b.name === 'postgres')!.open();
    const dir = copyRegistry();
    expect((await apply(db, dir, vector)).status).toBe('applied');
    return { db, dir, url: db.label };
  }

  it('notices another session changing the database and plans the drift back', async () => {
    const { db, dir, url } = await appliedServerDatabase();
    const dev = await devView(dir, async () => db, { embeddings: vector, pollMs: 100 });
    await dev.until((s) => planned(s) && !hasChanges(s.view!.plan!), 'the applied registry');

    const other = await openDatabase(parseDatabaseSpec(url));
    await other.pool.query(
      sql.unsafe`UPDATE prompts SET name = 'Edited by hand' WHERE unique_id = 'literature-summary'`,
    );
    await other.close();
    const drift = await dev.until((s) => planned(s) && hasChanges(s.view!.plan!), 'the change made behind its back');
    expect(drift.view!.plan!.changes.map((c) => [c.action, c.id, c.fields.map((f) => f.path)])).toEqual([
      ['update', 'literature-summary', ['name']],
    ]);
    expect(drift.history.at(-1)!.text).toMatch(/^the database changed → read test-db in \d+ ms/);
    await dev.quit();
  });

  it('keeps working on the registry while the database is gone, says so, and reconnects on r', async () => {
    const { db, dir, url } = await appliedServerDatabase();
    const name = new URL(url).pathname.slice(1);
    const dev = await devView(dir, async () => db, { embeddings: vector, pollMs: 100 });
    await dev.until((s) => planned(s) && !hasChanges(s.view!.plan!), 'the applied registry');

    const admin = await openDatabase(parseDatabaseSpec(testServerUrl));
    try {
      // The view's pool reconnects on its own between a kill and the rename: repeat until the rename wins.
      for (let moved = false; !moved; ) {
        await admin.pool.query(
          sql.unsafe`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name}`,
        );
        moved = await admin.pool
          .query(sql.unsafe`ALTER DATABASE ${sql.identifier([name])} RENAME TO ${sql.identifier([`${name}_away`])}`)
          .then(
            () => true,
            () => false,
          );
      }
      const lost = await dev.until((s) => s.db.state === 'unavailable', 'the lost database');
      expect(lost.status.text).toMatch(
        /^database unavailable: .*; planning against the state read at \d\d:\d\d:\d\d\. Press r to reconnect\.$/,
      );

      edit(dir, 'platform/tools.yaml', 'name: ', 'nmae: ');
      const typo = await dev.until(
        (s) => errorsOf(s).some((d) => d.code === 'CANON203'),
        'a typo while the database is gone',
      );
      expect(typo.db.state).toBe('unavailable');
      edit(dir, 'platform/tools.yaml', 'nmae: ', 'name: ');
      await dev.until((s) => errorsOf(s).length === 0, 'the fix while the database is gone');

      dev.press('r');
      await dev.until(
        (s) =>
          s.db.state === 'unavailable' &&
          s.busy === null &&
          s.history.filter((h) => h.text.startsWith('database unavailable')).length === 2,
        'r failing while it is gone',
      );
      await admin.pool.query(
        sql.unsafe`ALTER DATABASE ${sql.identifier([`${name}_away`])} RENAME TO ${sql.identifier([name])}`,
      );
      dev.press('r');
      const back = await dev.until((s) => s.db.state === 'ready' && planned(s), 'the database back after r');
      expect(hasChanges(back.view!.plan!)).toBe(false);
    } finally {
      await admin.pool
        .query(sql.unsafe`ALTER DATABASE ${sql.identifier([`${name}_away`])} RENAME TO ${sql.identifier([name])}`)
        .catch(() => {});
      await admin.close();
      await dev.quit();
    }
  });
});

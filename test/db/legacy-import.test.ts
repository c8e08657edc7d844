import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { sql } from '../../src/db/sql.ts';
import { importLegacy } from '../../src/import/legacy/legacy.ts';
import { loadMapping, resolveMappingFile } from '../../src/import/legacy/mapping.ts';
import { verifyLegacy } from '../../src/import/legacy/verify.ts';
import { canon } from '../support/cli.ts';
import { backends } from '../support/databases.ts';
import { checksums, legacyFixtureSql, legacySource, legacyTables, openSource } from '../support/legacy-source.ts';
import { apply, catalog, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

interface Report {
  complete: boolean;
  tables: { source: string; read: number; imported: number; merged: number; skipped: number; unaccounted: number }[];
  rows: { source: string; key: string; outcome: string; reason?: string; asset?: string }[];
  coercions: { source: string; key: string; field: string; reason: string }[];
}

const fate = (report: Report, source: string, key: string) =>
  report.rows.find((r) => r.source === source && r.key === key);

describe.each(backends)('canon import --legacy seed, source on $name', (backend) => {
  it('accounts for every row, leaves the source as it was, and its output validates, applies, plans 0 and verifies', async () => {
    const source = await legacySource(backend);
    const before = await checksums(source);
    const dir = tempDir('canon-legacy-out-');
    const out = join(dir, 'registry');
    const reportFile = join(dir, 'report.json');
    const deprecation = join(dir, 'deprecate.sql');
    const run = await canon([
      'import',
      '--legacy',
      'seed',
      '--source',
      source,
      '--out',
      out,
      '--report',
      reportFile,
      '--emit-deprecation-sql',
      deprecation,
    ]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(await checksums(source)).toEqual(before);

    // Every source row has exactly one fate, and the counts are the source's own.
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as Report;
    expect(report.complete).toBe(true);
    const db = await openSource(source);
    try {
      for (const t of report.tables) {
        const n = Number(await db.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM ${sql.identifier([t.source])}`));
        expect(t.read, t.source).toBe(n);
        expect(t.imported + t.merged + t.skipped, t.source).toBe(n);
        expect(report.rows.filter((r) => r.source === t.source)).toHaveLength(n);
      }
      // Soft-deleted rows, as the source itself says, are skipped with that reason.
      for (const table of ['dh_personas', 'dh_agent', 'dh_workflow', 'dh_task']) {
        const deleted = await db.pool.anyFirst(
          sql.unsafe`SELECT id::text FROM ${sql.identifier([table])} WHERE deleted_at IS NOT NULL`,
        );
        expect(deleted.length).toBeGreaterThan(0);
        for (const key of deleted) expect(fate(report, table, String(key))?.reason).toMatch(/soft-deleted/);
      }
    } finally {
      await db.close();
    }
    expect(report.tables.map((t) => t.source).sort()).toEqual([...legacyTables].sort());

    // The seed's rules and the preset's decisions, on the rows the fixture plants them in.
    expect(fate(report, 'dh_agent', '1')?.reason).toMatch(/clean agents table has an agent of the same name/);
    expect(fate(report, 'org_personas', '30000000-0000-4000-8000-000000000001')).toMatchObject({
      outcome: 'merged',
      asset: 'Persona dh_2',
    });
    expect(fate(report, 'dh_task_dependency', '4')?.reason).toMatch(/refers to itself/);
    expect(fate(report, 'dh_task_dependency', '5')?.reason).toMatch(/no dh_task row 77/);
    const cycle = ['1', '2', '3'].filter((k) =>
      /closes the cycle/.test(fate(report, 'dh_task_dependency', k)?.reason ?? ''),
    );
    expect(cycle).toHaveLength(1);
    const coerced = (source: string, key: string, field: string) =>
      report.coercions.filter((c) => c.source === source && c.key === key && c.field === field).map((c) => c.reason);
    expect(coerced('dh_personas', '2', 'decision_authority')).toEqual(["'FINAL' → 'final' (the schema's spelling)"]);
    expect(coerced('dh_agent', '2', 'complexity_level')).toEqual(["'medium' → 'Medium' (the schema's spelling)"]);
    expect(coerced('dh_personas', '5', 'name')[0]).toMatch(/cut to 255/);
    expect(coerced('dh_agent', '2', 'model_config')[0]).toMatch(/dropped: expected an object/);
    expect(coerced('dh_workflow', '2', 'use_case')[0]).toMatch(/no dh_use_case row 99/);
    expect(coerced('dh_agent', '4', 'parent')[0]).toMatch(/refers to itself/);

    const personas = readFileSync(join(out, 'platform', 'personas.yaml'), 'utf8');
    expect(personas).toContain('industry_specific_id: PH-MSL-001');
    expect(personas).toMatch(/profile:\n {2}experience_years: 15\n {2}education: MD/);
    expect(existsSync(join(out, 'tenants', 'acme', 'personas.yaml'))).toBe(true);

    // Phase 4, written and not run: the tables are still there under their names.
    const now = new Date();
    const month = `${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
    const ddl = readFileSync(deprecation, 'utf8');
    expect(ddl).toContain(`ALTER TABLE "public"."dh_personas" RENAME TO "_deprecated_dh_personas_${month}";`);
    expect(ddl).not.toMatch(/ALTER TABLE "public"\."industries"/);
    expect(await checksums(source)).toEqual(before);

    expect((await canon(['validate', '--dir', out])).status).toBe(0);
    const target = await backend.open();
    try {
      const applied = await apply(target, out, backend.vector);
      expect(applied.status).toBe('applied');
      const again = await plan(target, out, backend.vector);
      expect(again.plan.summary).toMatchObject({ create: 0, update: 0, delete: 0 });

      const sourceDb = await openSource(source);
      const mapping = loadMapping(resolveMappingFile('seed')!).mapping!;
      const result = await importLegacy(sourceDb, catalog, mapping, 'public').finally(() => sourceDb.close());
      const verified = await verifyLegacy(target, catalog, result);
      expect(verified.problems).toEqual([]);
      expect(verified.ok).toBe(true);

      // A change behind the import's back is found, on the rows it came from.
      await target.pool.query(sql.unsafe`UPDATE personas SET name = 'Someone else' WHERE unique_id = 'dh_2'`);
      const after = await verifyLegacy(target, catalog, result);
      expect(after.ok).toBe(false);
      expect(after.problems).toEqual([
        { asset: 'Persona dh_2', problem: 'name: expected "Medical Director", found "Someone else"' },
      ]);
      expect(after.sources.find((s) => s.source === 'org_personas')?.differing).toBe(1);
    } finally {
      await target.close();
    }
    expect(await checksums(source)).toEqual(before);
  }, 300_000);
});

describe('canon import --legacy, mapping files', () => {
  const pglite = backends[0]!;

  it('exits 1 and names the rows it could not account for', async () => {
    const source = await legacySource(pglite);
    const dir = tempDir('canon-legacy-map-');
    const mapping = join(dir, 'mapping.yaml');
    // No skip rule for rows without unique_id, and the id comes only from it.
    writeFileSync(
      mapping,
      'format_version: 1\nname: partial\nsources:\n  - table: dh_personas\n    kind: Persona\n    id: unique_id\n' +
        '    fields: {name: persona_name}\n' +
        // Nothing gives a use case its required name.
        '  - table: dh_use_case\n    kind: UseCase\n    id: code\n    fields: {code: code}\n',
    );
    const run = await canon([
      'import',
      '--legacy',
      mapping,
      '--source',
      source,
      '--out',
      join(dir, 'out'),
      '--format',
      'json',
    ]);
    expect(run.status).toBe(1);
    const report = JSON.parse(run.stdout) as Report;
    expect(report.complete).toBe(false);
    const unaccounted = (source: string) =>
      report.rows.filter((r) => r.source === source && r.outcome === 'unaccounted');
    expect(unaccounted('dh_personas').map((r) => r.key)).toEqual(['2', '3', '4', '6']);
    expect(unaccounted('dh_use_case').map((r) => [r.key, r.reason])).toEqual([
      ['1', 'UseCase uc001 has no name, which the schema requires'],
      ['2', 'UseCase uc002 has no name, which the schema requires'],
    ]);
    expect(report.tables.find((t) => t.source === 'dh_use_case')?.unaccounted).toBe(2);
  }, 120_000);

  it('reports a wrong mapping as a diagnostic at its line, and a query that would write fails in the read-only transaction', async () => {
    const source = await legacySource(pglite);
    const dir = tempDir('canon-legacy-map-');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      'format_version: 1\nname: bad\nsources:\n  - table: dh_personas\n    kind: Persona\n    id: {slugg: x}\n',
    );
    const run = await canon(['import', '--legacy', bad, '--source', source, '--out', join(dir, 'out')]);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/bad\.yaml:6:9: error CANON501: /);

    const typo = join(dir, 'typo.yaml');
    writeFileSync(
      typo,
      'format_version: 1\nname: typo\nsources:\n  - table: dh_personas\n    kind: Persona\n    id: id\n' +
        '    fields: {nmae: persona_name}\n',
    );
    const typoRun = await canon(['import', '--legacy', typo, '--source', source, '--out', join(dir, 't')]);
    expect(typoRun.status).toBe(1);
    expect(typoRun.stderr).toMatch(/typo\.yaml:7:14: error CANON501: 'nmae' is not a field of Persona/);
    expect(existsSync(join(dir, 't'))).toBe(false);

    const writer = join(dir, 'writer.yaml');
    writeFileSync(
      writer,
      "format_version: 1\nname: writer\nsources:\n  - name: sneaky\n    query: SELECT nextval('dh_personas_id_seq') AS id\n" +
        '    skip: [{when: {always: true}, reason: test}]\n',
    );
    const before = await checksums(source);
    const db = await openSource(source);
    const seq = async () => db.pool.oneFirst(sql.unsafe`SELECT last_value::text FROM dh_personas_id_seq`);
    try {
      const last = await seq();
      await db.close();
      const write = await canon(['import', '--legacy', writer, '--source', source, '--out', join(dir, 'w')]);
      expect(write.status).toBe(1);
      expect(write.stderr).toMatch(/read-only transaction/);
      const again = await openSource(source);
      expect(await again.pool.oneFirst(sql.unsafe`SELECT last_value::text FROM dh_personas_id_seq`)).toBe(last);
      await again.close();
    } finally {
      await db.close().catch(() => {});
    }
    expect(await checksums(source)).toEqual(before);
  }, 120_000);
});

describe('canon import --legacy, as a user runs it', () => {
  it('reads another schema, and verifies a target the CLI applied to', async () => {
    const dir = tempDir('canon-legacy-cli-');
    const sourceDir = join(dir, 'source');
    const pglite = await PGlite.create(sourceDir);
    await pglite.exec(`CREATE SCHEMA legacy; SET search_path TO legacy;\n${legacyFixtureSql}`);
    await pglite.close();
    const source = `pglite:${sourceDir}`;
    const out = join(dir, 'registry');

    const wrongSchema = await canon(['import', '--legacy', 'seed', '--source', source, '--out', out]);
    expect(wrongSchema.status).toBe(1);
    expect(wrongSchema.stderr).toMatch(/none of the mapping's \d+ tables is in schema 'public'.*--source-schema/);

    const run = await canon([
      'import',
      '--legacy',
      'seed',
      '--source',
      source,
      '--source-schema',
      'legacy',
      '--out',
      out,
    ]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^dh_personas +Persona +6 /m);
    const target = `pglite:${join(dir, 'target')}`;
    expect((await canon(['apply', '--dir', out, '--database', target, '--auto-approve'])).status).toBe(0);
    expect((await canon(['plan', '--dir', out, '--database', target, '--detailed-exitcode'])).status).toBe(0);
    const verify = await canon([
      'import',
      '--legacy',
      'seed',
      '--source',
      source,
      '--source-schema',
      'legacy',
      '--verify',
      '--database',
      target,
    ]);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toMatch(/^dh_personas +6 +2 +4 +4 +0 +0$/m);
    expect(verify.stdout).toContain('Verified: every imported row is in the target as the mapping makes it.');

    const nowhere = join(dir, 'nowhere');
    const missing = await canon([
      'import',
      '--legacy',
      'seed',
      '--source',
      `pglite:${nowhere}`,
      '--out',
      join(dir, 'x'),
    ]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no embedded database in that folder');
    expect(existsSync(nowhere)).toBe(false);

    const help = await canon(['import', '--help']);
    expect(help.stdout).toContain('--emit-deprecation-sql');
  }, 300_000);
});

import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { importRegistry } from '../../src/import/import.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { backendsAndSchemas } from '../support/databases.ts';
import { apply, catalog, copyRegistry, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const read = (dir: string, files: string[]) => files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]);

for (const backend of backendsAndSchemas) {
  describe(`canon import on ${backend.label}`, () => {
    it('round-trips the example registry: imported YAML applied elsewhere plans as 0 changes, twice byte-identical', async () => {
      const source = await backend.open();
      const target = await backend.open();
      try {
        const registry = copyRegistry();
        expect((await apply(source, registry, backend.vector)).status).toBe('applied');
        const assets = (await plan(source, registry, backend.vector)).plan.summary.unchanged;

        const first = tempDir('canon-import-');
        const imported = await importRegistry(source, catalog, first, { all: true });
        expect(imported.documents).toHaveLength(assets);
        expect(imported.dangling).toEqual([]);
        const second = tempDir('canon-import-');
        const again = await importRegistry(source, catalog, second, { all: true });
        expect(again.files).toEqual(imported.files);
        expect(read(second, again.files)).toEqual(read(first, imported.files));

        copyFileSync(join(registry, 'canon.yaml'), join(first, 'canon.yaml'));
        const checked = checkRegistry(first, catalog);
        expect(checked.diagnostics).toEqual([]);
        expect((await apply(target, first, backend.vector)).status).toBe('applied');
        // The original registry finds the target exactly as it would have made it: same rows, same ids.
        const original = (await plan(target, registry, backend.vector)).plan;
        expect(original.changes).toEqual([]);
        expect(original.summary.unchanged).toBe(assets);
        expect((await plan(target, first, backend.vector)).plan.changes).toEqual([]);
      } finally {
        await source.close();
        await target.close();
      }
    });

    it('by default writes only rows Canon does not manage, and planning them takes them over unchanged', async () => {
      const db: Database = await backend.open();
      try {
        const registry = copyRegistry();
        await apply(db, registry, backend.vector);
        const managedOnly = await importRegistry(db, catalog, tempDir('canon-import-'), { all: false });
        expect(managedOnly.documents).toEqual([]);
        expect(managedOnly.skipped.every((s) => s.reason.startsWith('already managed'))).toBe(true);

        // A row written by an application, outside Canon, in tenant acme-pharma.
        await db.pool.query(sql.unsafe`
          INSERT INTO prompts (unique_id, name, content, tenant_id)
          SELECT 'console-written', 'Written in the console', E'Line one\nline two\n', id FROM tenants WHERE unique_id = 'acme-pharma'`);
        const out = tempDir('canon-import-');
        const outcome = await importRegistry(db, catalog, out, { all: false });
        expect(outcome.documents.map((d) => [d.file, d.id])).toEqual([
          ['tenants/acme-pharma/prompts.yaml', 'console-written'],
        ]);
        const text = readFileSync(join(out, 'tenants/acme-pharma/prompts.yaml'), 'utf8');
        expect(text).toContain('content: |\n  Line one\n  line two\n');
        expect(text).toMatch(/uuid: [0-9a-f-]{36}/);

        copyFileSync(
          join(out, 'tenants/acme-pharma/prompts.yaml'),
          join(registry, 'tenants/acme-pharma/imported-prompts.yaml'),
        );
        // The plan does not read an unmanaged row's content, so it lists the fields it will write; the
        // proof that taking the row over changes nothing is the row itself, before and after.
        const adopted = (await plan(db, registry, backend.vector)).plan;
        expect(adopted.changes.map((c) => [c.action, c.id, 'adopt' in c && c.adopt])).toEqual([
          ['update', 'console-written', true],
        ]);
        const row = sql.unsafe`SELECT id, unique_id, name, content, tenant_id, is_active, is_public FROM prompts WHERE unique_id = 'console-written'`;
        const before = await db.pool.one(row);
        await apply(db, registry, backend.vector);
        expect(await db.pool.one(row)).toEqual(before);
        expect((await plan(db, registry, backend.vector)).plan.changes).toEqual([]);
      } finally {
        await db.close();
      }
    });

    it('imports values exactly: jsonb integers beyond 2^53 and text with a leading byte-order mark', async () => {
      const db: Database = await backend.open();
      try {
        const registry = copyRegistry();
        await apply(db, registry, backend.vector);
        await db.pool.query(sql.unsafe`
          INSERT INTO prompts (unique_id, name, content, model_config)
          VALUES ('exact-values', 'Exact values', E'\uFEFFStarts with a byte-order mark',
            '{"seed": 9007199254740993, "max": 9223372036854775807}'::jsonb)`);
        const out = tempDir('canon-import-');
        await importRegistry(db, catalog, out, { all: false });
        const text = readFileSync(join(out, 'platform/prompts.yaml'), 'utf8');
        expect(text).toContain('seed: 9007199254740993');
        expect(text).toContain('max: 9223372036854775807');
        expect(text).toContain('\uFEFFStarts with a byte-order mark');

        copyFileSync(join(out, 'platform/prompts.yaml'), join(registry, 'platform/imported-prompts.yaml'));
        const row = sql.unsafe`
          SELECT content, model_config::text AS model_config FROM prompts WHERE unique_id = 'exact-values'`;
        const before = await db.pool.one(row);
        await apply(db, registry, backend.vector);
        expect(await db.pool.one(row)).toEqual(before);
        expect((await plan(db, registry, backend.vector)).plan.changes).toEqual([]);
      } finally {
        await db.close();
      }
    });
  });
}

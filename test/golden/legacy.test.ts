import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/open.ts';
import { filesOf } from '../../src/import/documents.ts';
import { importLegacy } from '../../src/import/legacy/legacy.ts';
import { loadMapping, resolveMappingFile } from '../../src/import/legacy/mapping.ts';
import { reconciliationText } from '../../src/import/legacy/report.ts';
import { fileText } from '../../src/import/write.ts';
import { catalog } from '../support/registry.ts';

// One folder per case: source.sql (default: test/fixtures/legacy/source.sql) and mapping.yaml (default:
// the seed preset) are the input; expected/ the YAML the import writes, report.txt its reconciliation
// table. Review a changed expected file like code; regenerate with UPDATE_GOLDEN=1.
const casesDir = join(import.meta.dirname, 'legacy');

function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, e.name);
      if (e.isDirectory()) walk(path);
      else out.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : 1)));
}

describe('legacy import golden cases', () => {
  for (const name of readdirSync(casesDir).sort()) {
    it(name, async () => {
      const dir = join(casesDir, name);
      const sourceFile = existsSync(join(dir, 'source.sql'))
        ? join(dir, 'source.sql')
        : 'test/fixtures/legacy/source.sql';
      const mappingFile = existsSync(join(dir, 'mapping.yaml'))
        ? join(dir, 'mapping.yaml')
        : resolveMappingFile('seed')!;
      const { mapping, diagnostics } = loadMapping(mappingFile);
      expect(diagnostics).toEqual([]);
      const pglite = await PGlite.create();
      await pglite.exec(readFileSync(sourceFile, 'utf8'));
      const db = await openDatabase({ backend: 'pglite', dataDir: null }, { pglite });
      try {
        const runs: Awaited<ReturnType<typeof importLegacy>>[] = [];
        for (let i = 0; i < 2; i++) runs.push(await importLegacy(db, catalog, mapping!, 'public'));
        const render = (r: (typeof runs)[number]) => ({
          files: new Map([...filesOf(r.documents)].map(([file, docs]) => [file, fileText(docs)])),
          report: reconciliationText(r),
        });
        const [first, second] = runs.map(render);
        expect(second).toEqual(first); // deterministic: the same source gives the same bytes
        const expectedDir = join(dir, 'expected');
        if (process.env.UPDATE_GOLDEN) {
          rmSync(expectedDir, { recursive: true, force: true });
          for (const [file, text] of first!.files) {
            mkdirSync(dirname(join(expectedDir, file)), { recursive: true });
            writeFileSync(join(expectedDir, file), text);
          }
          writeFileSync(join(dir, 'report.txt'), first!.report);
        }
        expect(first!.files).toEqual(readTree(expectedDir));
        expect(first!.report).toBe(readFileSync(join(dir, 'report.txt'), 'utf8'));
      } finally {
        await db.close();
        await pglite.close();
      }
    }, 60_000);
  }
});

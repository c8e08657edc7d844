import { cpSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { generateTypes } from '../../src/typegen/typegen.ts';
import { tempDir } from '../support/temp.ts';

// Adding a kind means adding one schema file: this copies schemas/, drops in a throwaway kind from a
// fixture folder, and runs the real pipeline on a registry that uses it. No code in src/ knows it.
const fixture = join(import.meta.dirname, '..', 'fixtures', 'extra-kind');

function schemasWithGuideline(): string {
  const dir = tempDir('canon-schemas-');
  for (const f of readdirSync('schemas')) cpSync(join('schemas', f), join(dir, f));
  cpSync(join(fixture, 'Guideline.schema.json'), join(dir, 'Guideline.schema.json'));
  return dir;
}

describe('a kind added by one schema file', () => {
  const catalog = loadKindCatalog(schemasWithGuideline());

  it('is in the catalog with its table, columns, reference and relations', () => {
    const guideline = catalog.kinds.get('Guideline')!;
    expect(guideline.table).toBe('guidelines');
    expect(guideline.columns.map((c) => c.column)).toEqual(['unique_id', 'name', 'summary', 'issuing_body']);
    expect(guideline.references.map((r) => [r.property, r.column, r.target])).toEqual([
      ['tenant', 'tenant_id', 'Tenant'],
      ['supersedes', 'superseded_guideline_id', 'Guideline'],
    ]);
    expect(guideline.relations.map((r) => r.table)).toEqual(['guideline_prompts', 'guideline_industry_mapping']);
  });

  it('is validated and resolved like the built-in kinds', () => {
    const result = checkRegistry(join(fixture, 'registry'), catalog, { root: fixture });
    const lines = result.diagnostics.map((d) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`);
    expect(lines).toEqual([
      "registry/guidelines.yaml:20:29 CANON302 no Prompt with id 'summary-v2' is visible to the platform registry. Did you mean 'summary'?",
      "registry/guidelines.yaml:22:1 CANON203 unknown field 'issuing-body'. Did you mean 'issuing_body'?",
    ]);
  });

  it('resolves its references to database ids', () => {
    const fixed = checkRegistry(join(fixture, 'registry'), catalog, { root: fixture });
    const r2 = fixed.graph.assets.find((a) => a.id === 'ich-e6-r2')!;
    expect(r2.row).toMatchObject({ unique_id: 'ich-e6-r2', name: 'ICH E6(R2)', issuing_body: 'ICH' });
  });

  it('gets a TypeScript interface', async () => {
    const types = await generateTypes(catalog);
    expect(types).toMatch(/export interface Guideline \{/);
    expect(types).toMatch(/kind: 'Guideline';/);
  });
});

import { describe, expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';

describe('the example registry in registry/', () => {
  const catalog = loadKindCatalog('schemas');
  const result = checkRegistry('registry', catalog);

  it('validates clean', () => {
    expect(result.diagnostics).toEqual([]);
  });

  it('has at least 80 assets, and several of every kind', () => {
    expect(result.graph.assets.length).toBeGreaterThanOrEqual(80);
    for (const kind of catalog.kinds.keys()) {
      expect(result.graph.assets.filter((a) => a.kind === kind).length, kind).toBeGreaterThanOrEqual(3);
    }
  });

  it('exercises every reference and every relation the schemas define', () => {
    for (const model of catalog.kinds.values()) {
      const assets = result.graph.assets.filter((a) => a.kind === model.kind);
      for (const ref of model.references) {
        expect(
          assets.some((a) => a.row[ref.column] != null),
          `${model.kind}.${ref.property}`,
        ).toBe(true);
      }
      for (const relation of model.relations) {
        expect(
          assets.some((a) => (a.relations[relation.table] ?? []).length > 0),
          `${model.kind}.${relation.property}`,
        ).toBe(true);
      }
    }
  });

  it('has a tenant hierarchy and tenant-private assets', () => {
    const tenants = result.graph.assets.filter((a) => a.kind === 'Tenant');
    expect(tenants.some((t) => t.row.parent_tenant_id != null)).toBe(true);
    expect(
      new Set(result.graph.assets.filter((a) => a.tenant !== null).map((a) => a.tenant)).size,
    ).toBeGreaterThanOrEqual(3);
  });

  it('resolves a tenant id that shadows a platform id to the tenant asset', () => {
    const acmeAgent = result.graph.assets.find((a) => a.id === 'acme-medinfo-agent')!;
    const acmePrompt = result.graph.assets.find(
      (a) => a.kind === 'Prompt' && a.id === 'medical-information-response' && a.tenant === 'acme-pharma',
    )!;
    expect(acmeAgent.relations.agent_prompts).toEqual([{ agent_id: acmeAgent.uuid, prompt_id: acmePrompt.uuid }]);
  });
});

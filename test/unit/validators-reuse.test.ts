import { expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';

// A catalog's schemas are compiled once and the validators reused by every later validation (see
// validate.ts): one run's problems must not leak into the next, and reuse must report what a fresh
// compile reports.
it('reports each registry on its own when one catalog validates many times', () => {
  const invalidDir = 'test/golden/validate/wrong-type/registry';
  const catalog = loadKindCatalog('schemas');
  const first = checkRegistry(invalidDir, catalog).diagnostics;
  expect(first.map((d) => d.code)).toEqual(['CANON205', 'CANON205', 'CANON205', 'CANON205', 'CANON205']);
  expect(checkRegistry('registry', catalog).diagnostics).toEqual([]);
  expect(checkRegistry(invalidDir, catalog).diagnostics).toEqual(first);
  expect(checkRegistry(invalidDir, loadKindCatalog('schemas')).diagnostics).toEqual(first);
});

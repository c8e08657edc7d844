import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { generateTypes } from '../../src/typegen/typegen.ts';

it('generated/registry.ts matches schemas/ (run `npm run types` when this fails)', async () => {
  const fresh = await generateTypes(loadKindCatalog('schemas'));
  expect(readFileSync('generated/registry.ts', 'utf8')).toBe(fresh);
});

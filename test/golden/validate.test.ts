import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { defaultLimits } from '../../src/load/parse.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { renderValidationText, summarize } from '../../src/render/diagnostics.ts';
import { plainStyle } from '../../src/render/style.ts';
import { compileValidators } from '../../src/validate/ajv.ts';

// One folder per case: registry/ is the input, expected.txt what `canon validate` prints for it,
// case.json optional limits. Review a changed expected.txt like code; regenerate with UPDATE_GOLDEN=1.
const casesDir = join(import.meta.dirname, 'validate');
const catalog = loadKindCatalog('schemas');
const validators = compileValidators(catalog);

describe('validate golden cases', () => {
  for (const name of readdirSync(casesDir).sort()) {
    it(name, () => {
      const dir = join(casesDir, name);
      const limits = existsSync(join(dir, 'case.json'))
        ? { ...defaultLimits, ...JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')) }
        : defaultLimits;
      const result = checkRegistry(join(dir, 'registry'), catalog, { root: dir, limits, validators });
      const actual = renderValidationText(
        result.diagnostics,
        summarize(result.diagnostics, result.files, result.graph.assets.length),
        plainStyle,
      );
      const expectedFile = join(dir, 'expected.txt');
      if (process.env.UPDATE_GOLDEN) writeFileSync(expectedFile, actual);
      expect(actual).toBe(readFileSync(expectedFile, 'utf8'));
    });
  }
});

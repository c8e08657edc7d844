import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyIdOf } from '../../src/compile/compile.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { renderPlanSql } from '../../src/render/plan/sql.ts';
import { renderPlanText } from '../../src/render/plan/text.ts';
import { plainStyle } from '../../src/render/style.ts';
import { backends } from '../support/databases.ts';
import { apply, plan } from '../support/registry.ts';

// One folder per case: before/ is applied to a fresh embedded database, after/ is planned against it,
// and each renderer's output is compared with expected.{txt,md,json,sql}. Hashes and the git commit
// change with every commit of this repository (the database id with every database), so they are
// replaced by placeholders.
const casesDir = join(import.meta.dirname, 'plan');

describe('plan renderers, golden', () => {
  for (const name of readdirSync(casesDir).sort()) {
    it(name, async () => {
      const dir = join(casesDir, name);
      const db = await backends.find((b) => b.name === 'pglite')!.open();
      try {
        await apply(db, join(dir, 'before'), false);
        const outcome = await plan(db, join(dir, 'after'), false);
        const p = outcome.plan;
        const scrub = (text: string) => {
          let out = text
            .replaceAll(p.planHash, '<plan-hash>')
            .replaceAll(p.registryHash, '<registry-hash>')
            .replaceAll(p.liveHash, '<live-hash>')
            .replaceAll(applyIdOf(p), '<apply-id>');
          if (p.gitCommit) out = out.replaceAll(p.gitCommit, '<git-commit>');
          if (p.databaseId) out = out.replaceAll(p.databaseId, '<database-id>');
          return out
            .replaceAll(join(dir, 'after'), '<registry>')
            .replaceAll(`test/golden/plan/${name}/after`, '<registry>');
        };
        const outputs = {
          'expected.txt': renderPlanText(p, plainStyle),
          'expected.md': renderPlanMarkdown(p),
          'expected.json': renderPlanJson(p),
          'expected.sql': renderPlanSql(outcome.statements),
        };
        for (const [file, text] of Object.entries(outputs)) {
          const actual = scrub(text);
          if (process.env.UPDATE_GOLDEN) writeFileSync(join(dir, file), actual);
          expect(actual, file).toBe(readFileSync(join(dir, file), 'utf8'));
        }
      } finally {
        await db.close();
      }
    });
  }
});

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { renderPlanMarkdown } from '../../src/render/plan/markdown.ts';
import { writeSyntheticRegistry } from '../bench/synthetic.ts';
import { plan } from '../support/registry.ts';
import { backends } from '../support/databases.ts';
import { tempDir } from '../support/temp.ts';

it('keeps a 5,000-change plan under GitHub’s comment limit, with counts of what it left out', async () => {
  const dir = join(tempDir('canon-md-'), 'registry');
  writeSyntheticRegistry(dir, 5000);
  const db = await backends.find((b) => b.name === 'pglite')!.open();
  try {
    const { plan: p } = await plan(db, dir, false);
    expect(p.changes).toHaveLength(5000);
    const md = renderPlanMarkdown(p);
    expect(md.length).toBeLessThan(65_536);
    expect(md).toContain('**5000** to create');
    const shown = (md.match(/<details><summary><code>\+<\/code>/g) ?? []).length;
    expect(shown).toBeGreaterThan(10);
    expect(md).toContain(`… ${5000 - shown} more changes not shown (${5000 - shown} create, 0 update, 0 delete)`);
  } finally {
    await db.close();
  }
});

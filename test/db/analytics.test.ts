import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { backends } from '../support/databases.ts';
import { apply, copyRegistry, edit, openApplied, plan } from '../support/registry.ts';

const agentsOf = (db: Database, persona: string) =>
  db.pool.oneFirst(sql.type(z.object({ n: z.number() }))`
  SELECT agent_persona_mapping_count AS n FROM persona_analytics a JOIN personas p ON p.id = a.id WHERE p.unique_id = ${persona}`);

for (const backend of backends) {
  describe(`persona_analytics on ${backend.name}`, () => {
    let db: Database;
    afterEach(async () => db?.close());

    it('is refreshed by apply when its inputs change, and not otherwise', async () => {
      db = await openApplied(backend);
      const dir = copyRegistry();
      const personas = await db.pool.oneFirst(
        sql.type(z.object({ n: z.number() }))`SELECT count(*)::int AS n FROM persona_analytics`,
      );
      expect(personas).toBeGreaterThan(0);
      const before = await agentsOf(db, 'translational-scientist');

      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 480');
      const unrelated = await plan(db, dir, backend.vector);
      expect(unrelated.statements.map((s) => s.purpose)).not.toContain('refresh persona_analytics');

      edit(
        dir,
        'platform/agents.yaml',
        'personas: [{persona: medical-director, relationship_type: assists}]',
        'personas: [{persona: medical-director, relationship_type: assists}, {persona: translational-scientist, relationship_type: assists}]',
      );
      const related = await plan(db, dir, backend.vector);
      expect(related.statements.map((s) => s.purpose)).toContain('refresh persona_analytics');
      await apply(db, dir, backend.vector);
      expect(await agentsOf(db, 'translational-scientist')).toBe(before + 1);
    });
  });
}

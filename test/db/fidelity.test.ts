import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Database } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { renderPlanJson } from '../../src/render/plan/json.ts';
import { renderPlanSql } from '../../src/render/plan/sql.ts';
import { backends } from '../support/databases.ts';
import { apply, edit, plan } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const industries = ['pharmaceuticals', 'biotech', 'digital-health']
  .map((id) => `kind: Industry\nid: ${id}\nname: ${id}\n`)
  .join('---\n');

const tool = (rateLimits: string) => `kind: Tool
id: exact
name: Exact values
tool_category: api
industries: [pharmaceuticals]
rate_limits: ${rateLimits}
`;

function registry(files: Record<string, string>): string {
  const dir = join(tempDir('canon-fidelity-'), 'registry');
  mkdirSync(dir);
  for (const [name, text] of Object.entries({ 'industries.yaml': industries, ...files }))
    writeFileSync(join(dir, name), text);
  return dir;
}

for (const backend of backends) {
  describe(`fidelity on ${backend.name}`, () => {
    const vec = backend.vector;
    let db: Database;
    afterEach(async () => db?.close());

    const applied = async (dir: string) => {
      const outcome = await apply(db, dir, vec);
      if (outcome.status !== 'applied') throw new Error(outcome.diagnostics.map((d) => d.message).join('; '));
      const again = await plan(db, dir, vec);
      expect(again.plan.changes).toEqual([]);
    };
    const jsonbText = (column: string) =>
      db.pool.oneFirst(
        sql.type(
          z.object({ t: z.string() }),
        )`SELECT ${sql.identifier([column])}::text AS t FROM tools WHERE unique_id = 'exact'`,
      );

    it('keeps integers beyond 2^53 exact in jsonb, and plans a change of the last digit', async () => {
      db = await backend.open();
      const dir = registry({
        'tool.yaml': tool('{big: 9007199254740993, max: 9223372036854775807, huge: 123456789012345678901234567890}'),
      });
      await applied(dir);
      expect(await jsonbText('rate_limits')).toBe(
        '{"big": 9007199254740993, "max": 9223372036854775807, "huge": 123456789012345678901234567890}',
      );
      edit(dir, 'tool.yaml', '9007199254740993', '9007199254740992');
      const { plan: p, statements } = await plan(db, dir, vec);
      expect(p.changes.map((c) => c.fields.map((f) => f.path))).toEqual([['rate_limits.big']]);
      // Quote only bare numbers: hex hashes in the plan can hold 16 digits in a row.
      const bareBigNumber = /(?<=[:[,]\s*)(\d{16,})(?=\s*[,}\]])/g;
      const json = JSON.parse(renderPlanJson(p).replace(bareBigNumber, '"$1"'));
      expect(json.changes[0].fields[0]).toMatchObject({ before: '9007199254740993', after: '9007199254740992' });
      expect(renderPlanSql(statements)).toContain('9007199254740992');
      await applied(dir);
      expect(await jsonbText('rate_limits')).toContain('"big": 9007199254740992');
    });

    it('plans the removal of a jsonb key whose value is null, naming it', async () => {
      db = await backend.open();
      const dir = registry({ 'tool.yaml': tool('{kept: 1, gone: null}') });
      await applied(dir);
      edit(dir, 'tool.yaml', ', gone: null}', '}');
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes).toHaveLength(1);
      expect(p.changes[0]!.fields).toEqual([
        { path: 'rate_limits.gone', segments: ['rate_limits', 'gone'], before: null, after: null, absent: 'after' },
      ]);
      await applied(dir);
      expect(await jsonbText('rate_limits')).toBe('{"kept": 1}');
    });

    it('tells a dotted key from nested keys in field paths', async () => {
      db = await backend.open();
      const dir = registry({ 'tool.yaml': tool('{"a.b": 1, a: {b: 1}, "with space": 1, "x[0]": 1}') });
      await applied(dir);
      edit(
        dir,
        'tool.yaml',
        '{"a.b": 1, a: {b: 1}, "with space": 1, "x[0]": 1}',
        '{"a.b": 2, a: {b: 3}, "with space": 4, "x[0]": 5}',
      );
      const { plan: p } = await plan(db, dir, vec);
      expect(p.changes[0]!.fields.map((f) => [f.path, f.segments, f.after])).toEqual([
        ['rate_limits.a.b', ['rate_limits', 'a', 'b'], 3],
        ['rate_limits."a.b"', ['rate_limits', 'a.b'], 2],
        ['rate_limits."with space"', ['rate_limits', 'with space'], 4],
        ['rate_limits."x[0]"', ['rate_limits', 'x[0]'], 5],
      ]);
    });

    it('ignores the order of a uniqueItems reference list, and keeps the order of tags', async () => {
      db = await backend.open();
      const tenant = (list: string) => `kind: Tenant\nid: acme\nname: Acme\nallowed_industries: [${list}]\n`;
      const prompt = (tags: string) => `kind: Prompt\nid: p\nname: P\ncontent: x\ntags: [${tags}]\n`;
      const dir = registry({
        'tenant.yaml': tenant('pharmaceuticals, biotech, digital-health'),
        'prompt.yaml': prompt('b, a'),
      });
      await applied(dir);
      edit(dir, 'tenant.yaml', 'pharmaceuticals, biotech, digital-health', 'digital-health, pharmaceuticals, biotech');
      expect((await plan(db, dir, vec)).plan.changes).toEqual([]);
      edit(dir, 'tenant.yaml', 'digital-health, pharmaceuticals, biotech', 'digital-health, pharmaceuticals');
      expect((await plan(db, dir, vec)).plan.changes.map((c) => c.fields.map((f) => f.path))).toEqual([
        ['allowed_industries'],
      ]);
      edit(dir, 'prompt.yaml', 'tags: [b, a]', 'tags: [a, b]');
      const changes = (await plan(db, dir, vec)).plan.changes;
      expect(changes.map((c) => [c.id, c.fields.map((f) => f.path)])).toEqual([
        ['acme', ['allowed_industries']],
        ['p', ['tags']],
      ]);
    });
  });
}

import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { createPlanSession } from '../../src/pipeline/session.ts';
import { buildRows } from '../../src/tui/rows.ts';
import { canon } from '../support/cli.ts';
import { pgliteDataFolder } from '../support/databases.ts';
import { catalog } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const golden = join(import.meta.dirname, '..', 'golden', 'drift', 'jsonb-relation-unicode');

/** Two console edits behind Canon's back, on the embedded database in `dataDir` (no CLI command holds it now). */
async function editBehindCanon(dataDir: string) {
  const db = await openDatabase({ backend: 'pglite', dataDir });
  try {
    await db.pool.query(sql.unsafe`UPDATE agents SET model_config = jsonb_set(model_config, '{temperature}', '0.7')
      WHERE unique_id = 'analyst'`);
    await db.pool.query(
      sql.unsafe`DELETE FROM agent_tools WHERE tool_id = (SELECT id FROM tools WHERE unique_id = 'trials')`,
    );
  } finally {
    await db.close();
  }
}

describe('canon drift, as a user runs it', () => {
  it('is an operator command; lists drift (exit 2), marked in every plan format; --write makes plan 0', async () => {
    const help = await canon(['drift', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: canon drift /);
    expect(help.stdout).toContain("Drift is an operator's command: connect as the database owner");

    const refused = await canon([
      'drift',
      '--dir',
      golden + '/registry',
      '--database',
      'postgres://u:s3cr3t-pw@127.0.0.1:1/x',
    ]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/^canon drift: .*postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/x/);
    expect(refused.stdout + refused.stderr).not.toContain('s3cr3t-pw');

    const dir = join(tempDir('canon-drift-cli-'), 'registry');
    cpSync(join(golden, 'registry'), dir, { recursive: true });
    const dataDir = await pgliteDataFolder('canon-drift-db-');
    const at = ['--dir', dir, '--database', `pglite:${dataDir}`];
    expect((await canon(['apply', ...at, '--auto-approve'])).status).toBe(0);
    const clean = await canon(['drift', ...at, '--detailed-exitcode']);
    expect([clean.status, clean.stdout]).toEqual([0, expect.stringMatching(/^No drift\. .*: 5 managed rows/)]);

    await editBehindCanon(dataDir);
    const text = await canon(['drift', ...at, '--detailed-exitcode']);
    expect(text.status).toBe(2);
    expect(text.stdout).toContain('# Agent analyst');
    expect(text.stdout).toContain('~ model_config.temperature: 0.2 → 0.7');
    expect(text.stdout).toContain('- tools[trials] = {"tool":"trials"}');
    expect(text.stdout).toMatch(/updated_at \d{4}-\d\d-\d\dT[\d:.]+Z; a plan would overwrite it/);
    expect(text.stdout).toMatch(/Drift: 1 of 5 managed rows changed outside Canon since the last apply\.\n$/);
    expect((await canon(['drift', ...at])).status).toBe(0);

    const json = JSON.parse((await canon(['drift', ...at, '--format', 'json'])).stdout);
    expect(json.drifted.map((d: { id: string; registry: string }) => [d.id, d.registry])).toEqual([
      ['analyst', 'differs'],
    ]);
    expect(json.drifted[0].fields).toEqual([
      { path: 'model_config.temperature', segments: ['model_config', 'temperature'], before: 0.2, after: 0.7 },
      { path: 'tools[trials]', segments: ['tools', { entry: 'trials' }], before: { tool: 'trials' }, after: null },
    ]);

    const note = 'changed in the database since the last apply';
    const planText = (await canon(['plan', ...at, '--format', 'text'])).stdout;
    expect(planText).toContain('# Agent analyst will be updated in place, overwriting drift');
    expect(planText).toContain(`! ${note} at `);
    const markdown = (await canon(['plan', ...at, '--format', 'markdown'])).stdout;
    expect(markdown).toMatch(
      new RegExp(
        '> - \\*\\*1 row was changed in the database since the last apply \\(outside Canon\\); ' +
          'the plan overwrites it\\*\\*: Agent analyst: changed in the database',
      ),
    );
    const planJson = JSON.parse((await canon(['plan', ...at, '--format', 'json'])).stdout);
    expect(planJson.changes.map((c: { id: string; drift?: { paths: string[] } }) => [c.id, c.drift?.paths])).toEqual([
      ['analyst', ['model_config.temperature', 'tools[trials]']],
    ]);
    const github = (await canon(['plan', ...at, '--format', 'github'])).stdout;
    expect(github).toMatch(/::warning title=Canon plan::1 row was changed in the database since the last apply/);
    expect(github).toMatch(/::notice file=.*title=Canon plan::Agent analyst will be updated, overwriting drift: /);

    // canon dev: the session finds drift when it reads the database and marks the update's row.
    const session = createPlanSession({
      dir,
      catalog,
      schema: { embeddings: true, dimensions: 512 },
      deleteMode: 'soft',
    });
    const live = await openDatabase({ backend: 'pglite', dataDir });
    try {
      await session.refreshLive(live);
    } finally {
      await live.close();
    }
    const plan = session.update().plan!;
    const rows = buildRows({ diagnostics: [], plan, noPlan: '', filter: '', toggled: new Set(), recent: [] });
    expect(rows.map((r) => r.text)).toContainEqual(
      expect.stringContaining('Agent analyst will be updated in place, overwriting drift'),
    );

    const written = await canon(['drift', ...at, '--write', '--detailed-exitcode']);
    expect([written.status, written.stderr]).toEqual([0, '']);
    expect(written.stdout).toContain('Wrote 1 drifted assets into 1 file.');
    expect(readFileSync(join(dir, 'assets.yaml'), 'utf8')).toContain(
      '  temperature: 0.7\n  max_tokens: 2000\ntools:\n  - pubmed   # first choice\nprompts:',
    );
    expect((await canon(['plan', ...at, '--detailed-exitcode'])).status).toBe(0);
    const after = await canon(['drift', ...at, '--detailed-exitcode']);
    expect(after.status).toBe(0);
    expect(after.stdout).toContain('the registry already holds these values');
  });
});

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { canon, canonProcess } from '../support/cli.ts';
import { pgliteDataFolder } from '../support/databases.ts';
import { copyRegistry, edit } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

describe('canon plan and canon apply, as a user runs them', () => {
  it('plans, applies, re-plans to nothing, with terraform exit codes', async () => {
    const db = `pglite:${await pgliteDataFolder('canon-cli-')}`;
    const dir = copyRegistry();
    // One real process: the exit code reaches the shell; the other commands run in-process.
    const first = canonProcess(['plan', '--dir', dir, '--database', db, '--detailed-exitcode']);
    expect(first.status).toBe(2);
    expect(first.stdout).toMatch(
      /\nPlan: \d+ to create, 0 to update, 0 to delete, 0 unchanged; \d+ schema changes; \d+ policy changes\.\n$/,
    );
    const unapproved = await canon(['apply', '--dir', dir, '--database', db]);
    expect(unapproved.status).toBe(1);
    expect(unapproved.stderr).toBe(
      'canon apply: no terminal to ask for confirmation; pass --auto-approve, or apply a plan saved with canon plan --out\n',
    );
    const applied = await canon(['apply', '--dir', dir, '--database', db, '--auto-approve']);
    expect(applied.status).toBe(0);
    expect(applied.stdout).toMatch(
      /\nApply complete: \d+ created, 0 updated, 0 deleted, \d+ schema changes, \d+ policy changes \(\d+ statements, \d+ ms\)\.\n$/,
    );
    const second = await canon(['plan', '--dir', dir, '--database', db, '--detailed-exitcode']);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/^No changes\. .* matches the registry \(\d+ assets\)\.\nKnowledge: .*\.\n$/);
  });

  it('applies exactly a saved plan, and refuses it once stale', async () => {
    const db = `pglite:${await pgliteDataFolder('canon-cli-')}`;
    const dir = copyRegistry();
    expect((await canon(['apply', '--dir', dir, '--database', db, '--auto-approve'])).status).toBe(0);
    edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 480');
    const out = join(tempDir('canon-plan-'), 'plan.json');
    const planned = await canon(['plan', '--dir', dir, '--database', db, '--out', out]);
    expect(planned.status).toBe(0);
    expect(planned.stdout).toContain('~ avg_response_time_ms: 450 → 480');
    expect(JSON.parse(readFileSync(out, 'utf8')).summary).toEqual({
      create: 0,
      update: 1,
      delete: 0,
      unchanged: expect.any(Number),
    });
    edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 480', 'avg_response_time_ms: 490');
    const stale = await canon(['apply', out, '--dir', dir, '--database', db]);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toBe(
      "canon apply: the saved plan is stale: the registry changed since it was made. Run 'canon plan' again and review the new plan\n",
    );
    edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 490', 'avg_response_time_ms: 480');
    const exact = await canon(['apply', out, '--dir', dir, '--database', db]);
    expect(exact.status).toBe(0);
    expect(exact.stdout).toContain('Apply complete: 0 created, 1 updated, 0 deleted');
  });

  it('refuses deletes without --allow-delete, in one line', async () => {
    const db = `pglite:${await pgliteDataFolder('canon-cli-')}`;
    const dir = copyRegistry();
    expect((await canon(['apply', '--dir', dir, '--database', db, '--auto-approve'])).status).toBe(0);
    rmSync(join(dir, 'tenants/helix-bio/translational.yaml'));
    const refused = await canon(['apply', '--dir', dir, '--database', db, '--auto-approve']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toBe(
      'canon apply: the plan deletes 3 asset(s); nothing was changed. Review the deletes and pass --allow-delete to apply them\n',
    );
    expect((await canon(['apply', '--dir', dir, '--database', db, '--auto-approve', '--allow-delete'])).status).toBe(0);
  });

  it('stops before planning when the registry has errors, listing all of them', async () => {
    const dir = copyRegistry();
    edit(dir, 'platform/agents.yaml', 'prompts: [literature-summary]', 'prompts: [literature-sumary]');
    const result = await canon(['plan', '--dir', dir, '--database', 'memory:']);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(
      /platform\/agents\.yaml:\d+:\d+: error CANON302: no Prompt with id 'literature-sumary' .* Did you mean 'literature-summary'\?\n✗ 1 error, 0 warnings; nothing was planned\n$/,
    );
  });

  it('asks for confirmation on a terminal, and applies only on yes', async () => {
    const dir = copyRegistry();
    const database = `pglite:${await pgliteDataFolder('canon-cli-')}`;
    const run = async (answer: string) => {
      let stdout = '';
      let stderr = '';
      const asked: string[] = [];
      const code = await main(['apply', '--dir', dir, '--database', database], {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        env: { NO_COLOR: '1' },
        prompt: async (q) => {
          asked.push(q);
          return answer;
        },
      });
      return { code, stdout, stderr, asked };
    };
    const declined = await run('no');
    expect(declined.code).toBe(1);
    expect(declined.asked).toEqual([
      `\nApply these changes to ${database.slice('pglite:'.length)}? Only 'yes' will be accepted: `,
    ]);
    expect(declined.stderr).toBe('canon apply: apply cancelled; nothing was changed\n');
    const accepted = await run('yes');
    expect(accepted.code).toBe(0);
    expect(accepted.stdout).toContain('Apply complete:');
    const nothing = await run('yes');
    expect(nothing.asked).toEqual([]);
    expect(nothing.stdout).toMatch(/^No changes\./);
  });
});

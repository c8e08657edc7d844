import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { tempDir } from '../support/temp.ts';

async function plan(out: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(['plan', '--database', 'memory:', '--out', out, '--format', 'json'], {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { NO_COLOR: '1' },
  });
  return { code, stdout, stderr };
}

it('canon plan --out creates missing folders, and says plainly when it cannot write', async () => {
  const base = tempDir('canon-out-');
  const out = join(base, 'plans', 'today', 'plan.json');
  const saved = await plan(out);
  expect(saved.stderr).toBe('');
  expect(saved.code).toBe(0);
  expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(JSON.parse(saved.stdout));

  const folder = join(base, 'a-folder');
  mkdirSync(folder);
  const refused = await plan(folder);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toBe(`canon plan: cannot write the plan to ${folder}: it is a folder (EISDIR)\n`);
});

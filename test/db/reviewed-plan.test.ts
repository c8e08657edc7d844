import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { tempDir } from '../support/temp.ts';

async function canon(args: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env: { NO_COLOR: '1' },
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

const identity = ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', '-c', 'commit.gpgsign=false'];
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', [...identity, ...args], { cwd, encoding: 'utf8' }).trim();

// A pull request's plan is made on one commit and applied after the merge, on another: GitHub's
// merge (or squash) commit never has the reviewed commit's id. Same registry, same database: the
// reviewed plan must still apply; the commit is recorded, not compared.
it('a plan saved on a pull request applies on the merge commit when registry and database are unchanged', async () => {
  const repo = tempDir('canon-merge-');
  cpSync('test/golden/markdown/small-update/after', join(repo, 'registry'), { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'pull request head');
  const dir = join(repo, 'registry');
  const database = `pglite:${join(repo, '.db')}`;
  // Outside the repository, so the saved plan is not part of the merge commit.
  const out = join(tempDir('canon-merge-plan-'), 'plan.json');
  expect((await canon(['plan', '--dir', dir, '--database', database, '--no-embeddings', '--out', out])).code).toBe(0);
  const reviewed = JSON.parse(readFileSync(out, 'utf8'));
  writeFileSync(join(repo, 'README.md'), 'merged\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'merge commit');
  expect(git(repo, 'rev-parse', 'HEAD')).not.toBe(reviewed.git_commit);
  const applied = await canon(['apply', out, '--dir', dir, '--database', database, '--no-embeddings']);
  expect(applied.stderr).not.toContain('stale');
  expect(applied.code).toBe(0);
  expect(applied.stdout).toContain('Apply complete: 3 created');
});

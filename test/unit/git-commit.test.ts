import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { gitCommitOf } from '../../src/pipeline/plan.ts';
import { tempDir } from '../support/temp.ts';

const identity = ['-c', 'user.name=ci', '-c', 'user.email=ci@example.com', '-c', 'commit.gpgsign=false'];
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', [...identity, ...args], { cwd, encoding: 'utf8' }).trim();

it('names the commit, marks uncommitted edits under the registry folder only, and is null outside git', () => {
  const repo = tempDir('canon-git-');
  const registry = join(repo, 'registry');
  mkdirSync(registry);
  expect(gitCommitOf(registry)).toBeNull();
  git(repo, 'init', '-q');
  writeFileSync(join(registry, 'a.yaml'), 'kind: Prompt\n');
  expect(gitCommitOf(registry)).toBeNull(); // no commit yet
  git(repo, 'add', '.');
  git(repo, 'commit', '-qm', 'first');
  const head = git(repo, 'rev-parse', 'HEAD');
  expect(gitCommitOf(registry)).toBe(head);
  writeFileSync(join(repo, 'README.md'), 'outside the registry\n');
  expect(gitCommitOf(registry)).toBe(head);
  writeFileSync(join(registry, 'b.yaml'), 'kind: Agent\n');
  expect(gitCommitOf(registry)).toBe(`${head}-dirty`);
});

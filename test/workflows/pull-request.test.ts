import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { testServerUrl } from '../support/databases.ts';
import { tempDir } from '../support/temp.ts';
import { type Event, FakeGitHub, type JobResult, runJob } from './runner.ts';

/**
 * The shipped workflow, run job by job as CI would, on a copy of the example registry and a real
 * database (an embedded one in a folder, and the PostgreSQL server when TEST_DATABASE_URL is set):
 * bootstrap by hand, a pull request planned twice (one comment, updated in place), merged and
 * applied from its reviewed plan, a pull request without changes (no comment), and a reviewed plan
 * gone stale (refused, then applied fresh when the caller allows it). Every canon command is the
 * real CLI in a child process; only GitHub itself (comments, artifacts, `gh`) is played in memory.
 */
const workflow = resolve('.github/workflows/canon.yml');
const bin = resolve(JSON.parse(readFileSync('package.json', 'utf8')).bin.canon);
const password = 'wf-SECRET-pw';

const identity = ['-c', 'user.name=dev', '-c', 'user.email=dev@example.com', '-c', 'commit.gpgsign=false'];
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', [...identity, ...args], { cwd, encoding: 'utf8' }).trim();

function edit(workspace: string, file: string, from: string, to: string) {
  const path = join(workspace, 'registry', file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${from}`);
  writeFileSync(path, text.replace(from, to));
}

const commit = (workspace: string, message: string) => {
  git(workspace, 'add', '-A');
  git(workspace, 'commit', '-q', '--allow-empty', '-m', message);
  return git(workspace, 'rev-parse', 'HEAD');
};

/** Everything a job printed or published, to look for secrets in. */
const published = (job: JobResult, github: FakeGitHub) =>
  [
    job.summary,
    ...job.steps.flatMap((s) => [s.stdout, s.stderr]),
    ...[...github.comments.values()].flat().map((c) => c.body),
    ...github.runs
      .flatMap((r) => [...r.artifacts.values()])
      .flatMap((dir) => readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8'))),
  ].join('\n');

const created: string[] = [];
afterAll(async () => {
  if (!testServerUrl || created.length === 0) return;
  const admin = await openDatabase(parseDatabaseSpec(testServerUrl));
  for (const name of created) {
    await admin.pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
  }
  await admin.close();
});

/** `label` is how the comment's target line must name the database: the URL, but never its password. */
interface Target {
  name: string;
  url(root: string): Promise<string>;
  embeddings: boolean;
  label: RegExp;
}

const targets: Target[] = [
  {
    name: 'pglite',
    embeddings: true,
    label: /^### Canon plan for `\/.*\/db` · schema `public`$/m,
    url: async (root) => `pglite:${join(root, 'db')}`,
  },
  ...(testServerUrl
    ? [
        {
          name: 'postgres',
          embeddings: false,
          label:
            /^### Canon plan for `postgres:\/\/postgres(:\*+)?@127\.0\.0\.1:5432\/canon_wf_\w+` · schema `public`$/m,
          async url() {
            const name = `canon_wf_${Math.random().toString(16).slice(2, 10)}`;
            const admin = await openDatabase(parseDatabaseSpec(testServerUrl));
            try {
              await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
            } finally {
              await admin.close();
            }
            created.push(name);
            const url = new URL(testServerUrl!);
            url.pathname = `/${name}`;
            url.password = password; // the local server trusts the user; the password must still never show
            return url.toString();
          },
        },
      ]
    : []),
];

for (const target of targets) {
  describe(`the pull-request workflow on ${target.name}`, () => {
    it('plans pull requests in one living comment, applies the reviewed plan on merge, refuses it stale', async () => {
      const root = tempDir('canon-wf-');
      const workspace = join(root, 'repository');
      cpSync('registry', join(workspace, 'registry'), { recursive: true });
      if (!target.embeddings) edit(workspace, 'canon.yaml', 'enabled: true', 'enabled: false');
      git(workspace, 'init', '-q', '-b', 'main');
      const databaseUrl = await target.url(root);
      const github = new FakeGitHub();
      const job = (name: 'plan' | 'apply', event: Event, inputs: Record<string, boolean> = {}) =>
        runJob({
          workflow,
          job: name,
          event,
          workspace,
          github,
          inputs: { canon: `node ${bin}`, ...inputs },
          secrets: { 'database-url': databaseUrl },
          env: { PATH: process.env.PATH, HOME: process.env.HOME },
        });
      const failures = (result: JobResult) =>
        result.steps.filter((s) => s.outcome === 'failure').map((s) => `${s.name}:\n${s.stdout}\n${s.stderr}`);
      const pullRequest = (number: number) => {
        const headSha = commit(workspace, `pull request ${number}`);
        const pull = github.pulls.find((p) => p.number === number) ?? { number, headSha };
        if (!github.pulls.includes(pull)) github.pulls.push(pull);
        pull.headSha = headSha;
        return { name: 'pull_request' as const, sha: headSha, ref: `refs/pull/${number}/merge`, pullRequest: pull };
      };
      const merge = (number: number) => {
        const mergeSha = commit(workspace, `Merge pull request #${number}`);
        github.pulls.find((p) => p.number === number)!.mergeSha = mergeSha;
        return { name: 'push' as const, sha: mergeSha, ref: 'refs/heads/main' };
      };

      // A pull request event runs no apply, a push no plan.
      const main0 = commit(workspace, 'the registry');
      expect(job('plan', { name: 'push', sha: main0, ref: 'refs/heads/main' }).status).toBe('skipped');

      // Bootstrap: someone runs the workflow by hand on main, which applies the registry as it is.
      const bootstrap = job('apply', { name: 'workflow_dispatch', sha: main0, ref: 'refs/heads/main' });
      expect(failures(bootstrap)).toEqual([]);
      expect(bootstrap.summary).toMatch(/### Canon applied a fresh plan\n```\n[\s\S]*Apply complete: \d+ created/);

      // A pull request: annotations-clean validate, the plan as one comment, the summary, the artifact.
      edit(workspace, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 480');
      const opened = job('plan', pullRequest(7));
      expect(failures(opened)).toEqual([]);
      const pullEvent = {
        name: 'pull_request' as const,
        sha: 'x',
        ref: 'refs/pull/7/merge',
        pullRequest: { number: 7, headSha: 'x' },
      };
      expect(job('apply', pullEvent).status).toBe('skipped');
      expect(opened.annotations).toEqual([]);
      const [first] = github.comments.get(7)!;
      expect(github.comments.get(7)).toHaveLength(1);
      expect(first!.body).toMatch(/^<!-- canon-plan: .* \(schema public\) -->\n### Canon plan for /);
      expect(first!.body).toMatch(target.label);
      expect(first!.body).toContain('| `avg_response_time_ms` | 450 | 480 |');
      expect(opened.summary).toBe(first!.body);
      const artifact = opened.run!.artifacts.get('canon-plan-default')!;
      expect(readdirSync(artifact).sort()).toEqual(['plan.json', 'plan.md']);
      const saved = JSON.parse(readFileSync(join(artifact, 'plan.json'), 'utf8'));
      expect(saved.summary).toMatchObject({ create: 0, update: 1, delete: 0 });

      // A second push to the pull request: the same comment, replaced.
      edit(workspace, 'platform/tools.yaml', 'avg_response_time_ms: 480', 'avg_response_time_ms: 500');
      const pushed = job('plan', pullRequest(7));
      expect(failures(pushed)).toEqual([]);
      expect(github.comments.get(7)).toHaveLength(1);
      expect(github.comments.get(7)![0]!.id).toBe(first!.id);
      expect(github.comments.get(7)![0]!.body).toContain('| `avg_response_time_ms` | 450 | 500 |');

      // Merged: the push applies exactly the reviewed plan, on a merge commit the plan never saw.
      const merged = job('apply', merge(7));
      expect(failures(merged)).toEqual([]);
      expect(merged.steps.find((s) => s.id === 'apply-fresh')!.outcome).toBe('skipped');
      expect(merged.summary).toMatch(
        /^### Canon applied the reviewed plan\n```\n[\s\S]*Apply complete: 0 created, 1 updated/,
      );

      // A pull request that changes no asset: the plan says so, and no comment appears.
      writeFileSync(join(workspace, 'NOTES.md'), 'no registry change\n');
      const quiet = job('plan', pullRequest(8));
      expect(failures(quiet)).toEqual([]);
      expect(quiet.steps.find((s) => s.id === 'plan')!.stdout).toBe('');
      expect(quiet.summary).toMatch(
        /^<!-- canon-plan: .* -->\n\*\*Canon plan\*\* for .*: no changes \(\d+ assets match [^\n]*\n$/,
      );
      expect(github.comments.get(8)).toBeUndefined();

      // A pull request with a mistake: validate fails with an error on its line, and no plan is commented.
      edit(workspace, 'platform/tools.yaml', 'reliability_score: 0.98', 'reliabilty_score: 0.98');
      const broken = job('plan', pullRequest(10));
      expect(broken.status).toBe('failure');
      expect(broken.annotations.map((a) => `${a.level} ${a.properties}: ${a.message}`)).toContainEqual(
        expect.stringMatching(
          /^error file=registry\/platform\/tools\.yaml,line=\d+,col=\d+,title=Canon CANON\d+: .*reliabilty_score/,
        ),
      );
      expect(github.comments.get(10)).toBeUndefined();
      edit(workspace, 'platform/tools.yaml', 'reliabilty_score: 0.98', 'reliability_score: 0.98');

      // Reviewed, then the database changes before the merge: the reviewed plan is stale and refused.
      edit(workspace, 'platform/tools.yaml', 'reliability_score: 0.98', 'reliability_score: 0.99');
      expect(failures(job('plan', pullRequest(9)))).toEqual([]);
      const db = await openDatabase(parseDatabaseSpec(databaseUrl));
      try {
        const renamed = 'Renamed behind Canon';
        await db.pool.query(sql.unsafe`UPDATE tools SET name = ${renamed} WHERE unique_id = ${'pubmed-search'}`);
      } finally {
        await db.close();
      }
      const push9 = merge(9);
      const stale = job('apply', push9);
      expect(stale.status).toBe('failure');
      expect(stale.annotations.map((a) => `${a.level} ${a.properties}: ${a.message}`)).toEqual([
        expect.stringMatching(
          /^warning title=Canon apply: canon apply: the saved plan is stale: the database changed[^%]*\n$/,
        ),
        expect.stringMatching(/^error title=Canon apply: nothing was applied: no reviewed plan of this commit's pull/),
      ]);
      // A caller that allows it gets a fresh plan applied instead.
      const fresh = job('apply', push9, { 'apply-unreviewed': true });
      expect(failures(fresh)).toEqual([]);
      expect(fresh.summary).toMatch(/### Canon applied a fresh plan\n```\n[\s\S]*Apply complete: 0 created, 1 updated/);

      for (const result of [bootstrap, opened, pushed, merged, quiet, broken, stale, fresh]) {
        expect(published(result, github)).not.toContain(password);
      }
    }, 600_000);
  });
}

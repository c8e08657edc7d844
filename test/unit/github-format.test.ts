import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { escapeData, escapeProperty, verbatim } from '../../src/render/github.ts';
import { pgliteDataFolder } from '../support/databases.ts';
import { tempDir } from '../support/temp.ts';

async function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  let stdout = '';
  let stderr = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

/** A registry folder whose path and whose one mistake hold every character workflow commands escape. */
function awkwardRegistry() {
  const workspace = tempDir('canon-gh-');
  const dir = join(workspace, 'reg,v1:x');
  mkdirSync(dir);
  writeFileSync(join(dir, 'tools.yaml'), 'kind: Tool\nid: t1\nname: T\n"50% off\\r\\nnow": 1\n');
  return { workspace, dir };
}

describe('workflow commands (--format github)', () => {
  it('escapes as the runner reads them: %, CR, LF in messages; also : and , in properties', () => {
    expect(escapeData('50% done\r\nnext: a, b')).toBe('50%25 done%0D%0Anext: a, b');
    expect(escapeProperty('dir,v1:x/a%b\n')).toBe('dir%2Cv1%3Ax/a%25b%0A');
  });

  it('validate: one ::error per diagnostic with file, line, col and code, paths from $GITHUB_WORKSPACE', async () => {
    const { workspace, dir } = awkwardRegistry();
    const { code, stdout } = await run(['validate', '--dir', dir, '--format', 'github'], {
      GITHUB_WORKSPACE: workspace,
    });
    expect(code).toBe(1);
    const [annotation, summary, end] = stdout.split('\n');
    expect(annotation).toMatch(
      new RegExp(
        '^::error file=reg%2Cv1%3Ax/tools\\.yaml,line=4,col=1,title=Canon CANON203' +
          "::unknown field '50%25 off%0D%0Anow'\\. Allowed here: kind, id, ",
      ),
    );
    expect(summary).toBe('✗ 1 error, 0 warnings (0 assets in 1 file)');
    expect(end).toBe('');
  });

  it('validate: warnings become ::warning, errors ::error, in file order', async () => {
    const dir = 'test/golden/validate/empty-file-and-document/registry';
    const { stdout } = await run(['validate', '--dir', dir, '--format', 'github']);
    expect(
      stdout
        .split('\n')
        .slice(0, 3)
        .map((l) => l.slice(0, l.indexOf('::', 2))),
    ).toEqual([
      `::warning file=${dir}/docs.yaml,line=5,col=1,title=Canon CANON109`,
      `::error file=${dir}/docs.yaml,line=7,col=1,title=Canon CANON110`,
      `::warning file=${dir}/empty.yaml,line=1,col=1,title=Canon CANON108`,
    ]);
  });

  it('validate --detailed-exitcode: 0 clean, 1 errors, 2 warnings only', async () => {
    expect((await run(['validate', '--detailed-exitcode'])).code).toBe(0);
    const errors = 'test/golden/validate/empty-file-and-document/registry';
    expect((await run(['validate', '--detailed-exitcode', '--dir', errors])).code).toBe(1);
    const dir = tempDir('canon-warn-');
    writeFileSync(join(dir, 'tools.yaml'), 'kind: Tool\nid: t1\nname: T\n');
    writeFileSync(join(dir, 'empty.yaml'), '');
    const warned = await run(['validate', '--detailed-exitcode', '--dir', dir]);
    expect(warned.stdout).toContain('warning CANON108');
    expect(warned.code).toBe(2);
    expect((await run(['validate', '--dir', dir])).code).toBe(0);
    const help = (await run(['validate', '--help'])).stdout;
    expect(help).toContain('--detailed-exitcode   exit 2 when there are warnings but no errors');
  });

  it('text between stop-commands and its token is never read as a command', () => {
    const text = verbatim('  + content = "::add-mask::x"\n::error::not an annotation\n', 'abc123');
    expect(text).toBe(
      '::stop-commands::abc123\n  + content = "::add-mask::x"\n::error::not an annotation\n' + '::abc123::\n',
    );
  });

  it('plan: risks as warnings, changed assets as notices on their lines, the text plan folded and inert', async () => {
    const dir = tempDir('canon-gh-plan-');
    writeFileSync(
      join(dir, 'assets.yaml'),
      [
        'kind: Tool\nid: pubmed\nname: PubMed',
        'kind: Prompt\nid: sneaky\nname: Sneaky\ncontent: |\n  ::error file=x::injected\n  ::add-mask::nothing',
      ].join('\n---\n') + '\n',
    );
    const database = `pglite:${await pgliteDataFolder()}`;
    const plan = [
      'plan',
      '--dir',
      dir,
      '--database',
      database,
      '--no-embeddings',
      '--format',
      'github',
      '--detailed-exitcode',
    ];
    const { code, stdout } = await run(plan, { GITHUB_WORKSPACE: tmpdir() });
    expect(code).toBe(2);
    const lines = stdout.split('\n');
    const folder = dir.slice(tmpdir().length + 1);
    const at = `file=${folder}/assets.yaml`;
    expect(lines).toContain(`::notice ${at},line=2,col=5,title=Canon plan::Tool pubmed will be created`);
    expect(lines).toContain(`::notice ${at},line=6,col=5,title=Canon plan::Prompt sneaky will be created`);
    expect(lines.find((l) => l.startsWith('Canon plan ('))).toMatch(
      /^Canon plan \(.*\/db\): 2 to create, 0 to update, 0 to delete, 0 unchanged, \d+ schema and policy changes\.$/,
    );
    const group = lines.indexOf('::group::The plan');
    const stop = lines[group + 1]!.match(/^::stop-commands::([0-9a-f]{32})$/)![1];
    const resume = lines.indexOf(`::${stop}::`);
    expect(lines[resume + 1]).toBe('::endgroup::');
    const inside = lines.slice(group + 2, resume);
    expect(inside.some((l) => l.includes('::error file=x::injected'))).toBe(true);
    expect(lines.slice(0, group).some((l) => l.includes('injected'))).toBe(false);

    const applied = await run(['apply', '--dir', dir, '--database', database, '--no-embeddings', '--auto-approve']);
    expect(applied.code).toBe(0);
    writeFileSync(join(dir, 'assets.yaml'), 'kind: Tool\nid: pubmed\nname: PubMed\n');
    const deleting = await run(plan);
    expect(deleting.code).toBe(2);
    expect(deleting.stdout.split('\n')[0]).toBe(
      '::warning title=Canon plan::1 asset will be deleted ' +
        '(soft: deleted_at is set, the rows stay): Prompt sneaky (apply needs --allow-delete)',
    );
  });
});

describe('--format github agrees with --detailed-exitcode', () => {
  it('a plan whose only work is knowledge (re-chunked text, embedding jobs) is reported as a change', async () => {
    const dir = tempDir('canon-gh-knowledge-');
    const paragraphs = Array.from({ length: 6 }, (_, i) => `  Paragraph ${i}: record every unsolicited request.`);
    const source = 'kind: Industry\nid: pharma\nname: Pharma\n---\nkind: KnowledgeSource\nid: sop\nname: SOP\n';
    writeFileSync(
      join(dir, 'knowledge.yaml'),
      `${source}source_type: structured\nindustries: [pharma]\ncontent: |\n${paragraphs.join('\n\n')}\n`,
    );
    const settings = (maxTokens: number) =>
      writeFileSync(join(dir, 'canon.yaml'), `chunking: {max_tokens: ${maxTokens}, overlap: 0}\n`);
    settings(512);
    const database = `pglite:${await pgliteDataFolder()}`;
    const at = ['--dir', dir, '--database', database];
    expect((await run(['apply', ...at, '--auto-approve'])).code).toBe(0);
    settings(16);
    const { code, stdout } = await run(['plan', ...at, '--format', 'github', '--detailed-exitcode']);
    expect(code).toBe(2);
    const summary = stdout.split('\n').find((l) => l.startsWith('Canon plan (') || l.startsWith('No changes'));
    expect(summary).toMatch(/^Canon plan \(.*\): 0 to create, 0 to update, 0 to delete, 2 unchanged, .*Knowledge: /);
    expect(stdout).toContain('::group::The plan');
    expect(stdout).toMatch(/::warning title=Canon plan::\d+ chunks are \(re-\)embedded after apply/);
  });
});

describe('--format github masks secrets in values', () => {
  it('from the registry, in annotations and in the folded plan', async () => {
    const dir = tempDir('canon-gh-mask-');
    writeFileSync(
      join(dir, 'tools.yaml'),
      'kind: Tool\nid: billing\nname: Billing\nendpoint_url: https://svc:SECRETpw1@billing.example.com/v2?token=SECRETtok2\n',
    );
    const args = ['plan', '--dir', dir, '--database', `pglite:${await pgliteDataFolder()}`, '--no-embeddings'];
    const { code, stdout } = await run([...args, '--format', 'github']);
    expect(code).toBe(0);
    expect(stdout).toContain('::group::The plan');
    expect(stdout).toContain('https://svc:***@billing.example.com/v2?token=***');
    expect(stdout).not.toMatch(/SECRET/);
  });
});

import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { cliPath } from '../support/built-cli.ts';

function run(args: string[], env: NodeJS.ProcessEnv = {}, isTTY = false) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => (stdout += t), isTTY },
    stderr: { write: (t: string) => (stderr += t), isTTY },
    env,
  };
  return main(args, io).then((code) => ({ code, stdout, stderr }));
}

describe('canon CLI', () => {
  it('validates the example registry with exit code 0', async () => {
    const { code, stdout } = await run(['validate']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^✓ \d+ assets in \d+ files valid\n$/);
  });

  it('exits 1 and prints file:line:col diagnostics on errors', async () => {
    const { code, stdout } = await run(['validate', '--dir', 'test/golden/validate/dangling-reference/registry']);
    expect(code).toBe(1);
    expect(stdout).toContain(
      "test/golden/validate/dangling-reference/registry/agents.yaml:9:11: error CANON302: no Prompt with id 'literature-sumary'",
    );
  });

  it('prints versioned JSON with --format json', async () => {
    const { code, stdout } = await run([
      'validate',
      '--format',
      'json',
      '--dir',
      'test/golden/validate/unknown-kind/registry',
    ]);
    expect(code).toBe(1);
    const json = JSON.parse(stdout);
    expect(json.format_version).toBe('1');
    expect(json.valid).toBe(false);
    expect(json.diagnostics[0]).toEqual({
      file: 'test/golden/validate/unknown-kind/registry/kinds.yaml',
      line: 1,
      column: 7,
      severity: 'error',
      code: 'CANON202',
      message: `unknown kind "Agnet". Did you mean 'Agent'?`,
    });
  });

  it('colors only on a TTY, and never with NO_COLOR', async () => {
    const args = ['validate', '--dir', 'test/golden/validate/unknown-kind/registry'];
    expect((await run(args, {}, false)).stdout).not.toContain('\u001b[');
    expect((await run(args, {}, true)).stdout).toContain('\u001b[31m');
    expect((await run(args, { NO_COLOR: '1' }, true)).stdout).not.toContain('\u001b[');
  });

  it('answers --help on every command and rejects unknown options with one line', async () => {
    for (const command of ['validate', 'types']) {
      const { code, stdout } = await run([command, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: canon ${command}`);
    }
    const bad = await run(['validate', '--frmat', 'json']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe("canon validate: Unknown option '--frmat'. See 'canon validate --help'.\n");
    const unknown = await run(['valdate']);
    expect(unknown.stderr).toContain("unknown command 'valdate'");
  });

  it('names a --schemas folder that does not exist in one line', async () => {
    const { code, stdout, stderr } = await run(['validate', '--schemas', 'no/such/schemas']);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    const hint = 'pass the folder that holds the *.schema.json files';
    expect(stderr).toBe(`canon: --schemas no/such/schemas: no such folder; ${hint}.\n`);
  });

  it('runs as a real executable', () => {
    const out = execFileSync(process.execPath, [cliPath, 'validate', '--format', 'json'], { encoding: 'utf8' });
    expect(JSON.parse(out).valid).toBe(true);
    const failed = spawnSync(process.execPath, [cliPath, 'validate', '--dir', 'no/such/folder'], { encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain('no/such/folder:1:1: error CANON112: no such folder');
    expect(failed.stderr).toBe('');
  });
});

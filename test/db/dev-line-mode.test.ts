import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type DevOptions, runDev } from '../../src/tui/run.ts';
import { catalog, copyRegistry, edit } from '../support/registry.ts';

// Without a terminal (a pipe, a log, CI=true) `canon dev` prints one block per change to stdout.

function capture(isTTY = false) {
  let text = '';
  return {
    stream: {
      isTTY,
      write: (s: string) => {
        text += s;
        return true;
      },
    },
    text: () => text,
  };
}

async function until(read: () => string, pattern: RegExp, what: string) {
  for (let i = 0; i < 9000 && !pattern.test(read()); i++) await new Promise((r) => setTimeout(r, 10));
  if (!pattern.test(read())) throw new Error(`never printed ${what}:\n${read()}`);
}

function start(dir: string, database: string, env: NodeJS.ProcessEnv = {}, tty = false) {
  const out = capture(tty);
  const err = capture(tty);
  let stop!: () => void;
  const stopSignal = new Promise<void>((resolve) => {
    stop = resolve;
  });
  const options: DevOptions = {
    dir,
    root: dirname(dir),
    database,
    catalog,
    deleteMode: 'soft',
    noEmbeddings: false,
    statementTimeoutMs: 60_000,
    lockTimeoutMs: 5_000,
  };
  const stdin = { isTTY: tty } as NodeJS.ReadStream;
  const exit = runDev(options, { stdout: out.stream, stderr: err.stream, env, stdin, stopSignal });
  return { out: out.text, err: err.text, stop, exit };
}

describe('canon dev without a terminal', () => {
  it('prints the problems and the plan summary once per change, and stops on a signal', async () => {
    const dir = copyRegistry();
    const dev = start(dir, 'memory:');
    await until(
      dev.out,
      /Plan: 105 to create, 0 to update, 0 to delete, 0 unchanged; \d+ schema changes; \d+ policy changes\./,
      'the first plan',
    );
    expect(dev.out()).toMatch(
      new RegExp(
        '^── \\d\\d:\\d\\d:\\d\\d read 20 files → checked in \\d+ ms\nReading the database memory:…\n\n' +
          '── \\d\\d:\\d\\d:\\d\\d read memory: in \\d+ ms → ' +
          're-planned in \\d+ ms: 105 to create, 0 to update, 0 to delete\n',
      ),
    );
    expect(dev.out()).toContain('  + Industry biotech (6 fields)  registry/platform/industries.yaml:25:5\n');
    expect(dev.out()).toContain('  … 85 more\n');

    edit(
      dir,
      'platform/agents.yaml',
      '- {prompt: literature-summary, usage: task}',
      '- {prompt: literature-sumary, usage: task}',
    );
    await until(dev.out, /platform\/agents\.yaml saved → 1 error/, 'the typo');
    const block = dev.out().slice(dev.out().lastIndexOf('── '));
    expect(block.split('\n').slice(1, 3)).toEqual([
      "registry/platform/agents.yaml:29:14: error CANON302: no Prompt with id 'literature-sumary' is visible to the " +
        "platform registry. Did you mean 'literature-summary'?",
      'No plan while the registry has errors: fix them (e jumps to the next one).',
    ]);
    expect(dev.out()).not.toContain('\u001b[');
    dev.stop();
    expect(await dev.exit).toBe(0);
    expect(dev.err()).toBe('');
  });

  it('never prints the password in a database URL; keeps checking the registry while the server is down', async () => {
    const dir = copyRegistry();
    const dev = start(dir, 'postgres://canon:s3cret-pw@127.0.0.1:1/registry');
    await until(dev.out, /database unavailable/, 'the unreachable server');
    expect(dev.out()).toMatch(
      /database unavailable: connection refused by postgres:\/\/canon:\*\*\*@127\.0\.0\.1:1\/registry: is PostgreSQL/,
    );
    edit(dir, 'platform/tools.yaml', 'name: ', 'nmae: ');
    await until(dev.out, /CANON203/, 'the typo');
    dev.stop();
    await dev.exit;
    expect(dev.out() + dev.err()).not.toContain('s3cret-pw');
  });

  it('uses line mode when CI is set, even on a terminal (ink draws only a last frame); honours NO_COLOR', async () => {
    const dev = start(copyRegistry(), 'memory:', { CI: 'true', NO_COLOR: '1' }, true);
    await until(dev.out, /re-planned/, 'the first plan');
    expect(dev.out()).toMatch(/^── /);
    expect(dev.out()).not.toContain('\u001b[');
    dev.stop();
    expect(await dev.exit).toBe(0);
  });

  it('has --help, listed in canon --help', async () => {
    const out = capture();
    expect(await main(['dev', '--help'], { stdout: out.stream, stderr: capture().stream, env: {} })).toBe(0);
    expect(out.text()).toMatch(/^Usage: canon dev \[--dir registry\] \[--database <db>\]/);
    expect(out.text()).toContain('a            apply the plan (asks to confirm; deletes twice)');
    const overview = capture();
    await main(['--help'], { stdout: overview.stream, stderr: capture().stream, env: {} });
    expect(overview.text()).toMatch(/\n {2}dev {9}Watch the registry and re-plan on every save/);
  });
});

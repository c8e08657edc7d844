import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../support/built-cli.ts';
import { tempDir } from '../support/temp.ts';

// The real `canon dev` in a real terminal (tmux): what a person sees, key by key. CI is unset for the
// child: with CI set, ink draws only the final frame. A private tmux socket keeps other sessions out.

const tmuxVersion = (() => {
  try {
    return execFileSync('tmux', ['-V'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
})();
if (!tmuxVersion) console.log('skipping the canon dev terminal test: tmux is not installed (apt-get install -y tmux)');

const socket = `canon-dev-e2e-${process.pid}`;
const session = 'dev';
const bin = cliPath;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);
/** One key per call: `send-keys k q` would arrive as the single string "kq". */
const key = (k: string) => tmux('send-keys', '-t', session, k);

async function until(pattern: RegExp, what: string, deadlineMs = 120_000): Promise<string> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const text = screen();
    if (pattern.test(text)) return text;
    if (Date.now() > end) throw new Error(`the terminal never showed ${what}; it shows:\n${text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function editFile(path: string, from: string, to: string) {
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${path} does not contain ${from}`);
  writeFileSync(path, text.replace(from, to));
}

afterAll(() => {
  if (tmuxVersion)
    try {
      tmux('kill-server');
    } catch {
      /* already gone */
    }
});

describe.skipIf(!tmuxVersion)(`canon dev in a terminal (${tmuxVersion})`, () => {
  it('shows a typo, the plan once fixed, applies after a confirmation, restores the terminal on q', async () => {
    const project = tempDir('canon-dev-e2e-');
    cpSync('registry', join(project, 'registry'), { recursive: true });
    const agents = join(project, 'registry/platform/agents.yaml');
    // After canon dev exits: its exit code, whether the terminal is back in canonical mode with echo, then wait.
    const script = [
      `cd '${project}'`,
      `env -u CI NO_COLOR=1 node '${bin}' dev --dir registry --database pglite:db`,
      'echo "EXIT=$?"',
      'stty -a | tr " " "\\n" | grep -x -e icanon -e -icanon -e echo -e -echo | tr "\\n" " "; echo',
      'sleep 600',
    ].join('; ');
    tmux('new-session', '-d', '-s', session, '-x', '140', '-y', '45', `sh -c '${script.replace(/'/g, `'\\''`)}'`);

    let text = await until(
      /Plan: 105 to create, 0 to update, 0 to delete, 0 unchanged; \d+ schema changes; \d+ policy changes\./,
      'the first plan',
    );
    expect(text).toMatch(/^canon dev · registry → db · 105 assets in 20 files · 0 errors · 0 warnings/m);
    expect(text).toContain('↑↓/jk move · enter expand · / filter · e errors · r reload db · a apply · ? help · q quit');

    editFile(agents, '- {prompt: literature-summary, usage: task}', '- {prompt: literature-sumary, usage: task}');
    // At 140 columns the problem continues on a second line.
    text = await until(/Did you mean\s+'literature-summary'\?/, 'the typo and its did-you-mean');
    expect(text).toContain(
      "registry/platform/agents.yaml:29:14 CANON302 no Prompt with id 'literature-sumary' is visible",
    );
    expect(text).toMatch(/platform\/agents\.yaml saved → 1 error \(checked in \d+ ms\)/);
    expect(text).toContain('No plan while the registry has errors');

    editFile(agents, 'literature-sumary', 'literature-summary');
    await until(/^Plan: 105 to create/m, 'the plan after the fix');

    key('j');
    key('j');
    key('j');
    key('Enter');
    text = await until(/▾ \+ Industry/, 'an expanded asset');
    expect(text).toMatch(/\+ id = "/);

    key('a');
    text = await until(/Apply this plan to db\?/, 'the confirmation');
    expect(text).toContain('Press y to apply it; any other key cancels.');
    key('y');
    text = await until(/^No changes\. db matches the registry \(105 assets\)\./m, 'no changes after the apply');
    expect(text).toMatch(/re-read db in \d+ ms → re-planned in \d+ ms: no changes/);

    // A smaller terminal: the view shrinks with it, one header, nothing left over from the larger frame.
    tmux('resize-window', '-t', session, '-x', '100', '-y', '30');
    text = await until(/^canon dev · registry → db/m, 'the view after a resize');
    await new Promise((r) => setTimeout(r, 500));
    text = screen();
    expect(text.split('\n').filter((l) => l.startsWith('canon dev · registry')).length).toBe(1);
    expect(text).toContain('↑↓/jk move');

    key('q');
    text = await until(/EXIT=\d+\n.*\n/, 'canon dev exiting');
    expect(text).toContain('EXIT=0');
    expect(text).toMatch(/EXIT=0\n\s*icanon echo|EXIT=0\n\s*echo icanon/);
    expect(tmux('display', '-p', '-t', session, '#{cursor_flag}').trim()).toBe('1');
    expect(existsSync(join(project, 'db.lock'))).toBe(false);
  }, 600_000);
});

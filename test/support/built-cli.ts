import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');

/**
 * The CLI as it ships: the JavaScript `npm run build` compiles into dist/. Tests that spawn the CLI run
 * this file, which vitest's global setup (below) rebuilds before every run, so a stale build can
 * neither fail nor pass a test.
 */
export const cliPath = join(repo, 'dist', 'cli', 'bin.js');

/**
 * vitest globalSetup: builds the CLI, and points the user cache folder (where the CLI keeps compiled
 * validators) at a temporary folder, removed afterwards, so test runs leave nothing in $HOME.
 */
export default function setup(): () => void {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: repo, stdio: 'inherit' });
  const userCache = mkdtempSync(join(tmpdir(), 'canon-test-cache-'));
  process.env.XDG_CACHE_HOME = userCache;
  return () => rmSync(userCache, { recursive: true, force: true });
}

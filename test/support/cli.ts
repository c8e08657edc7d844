import { spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `canon <args>` in this process, the way bin.mjs runs it when there is no terminal (no prompt),
 * with NO_COLOR and without DATABASE_URL. Starting a process per command costs seconds (Node, tsx,
 * a first PGlite); tests that are about the executable itself use `canonProcess`.
 */
export async function canon(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const status = await main(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { NO_COLOR: '1', ...env },
  });
  return { status, stdout, stderr };
}

/** Runs the real executable, `node src/cli/bin.mjs <args>`, with NO_COLOR and without DATABASE_URL. */
export function canonProcess(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return spawnSync(process.execPath, ['src/cli/bin.mjs', ...args], {
    encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env },
  });
}

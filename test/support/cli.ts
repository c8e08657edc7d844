import { spawn, spawnSync } from 'node:child_process';
import { main } from '../../src/cli/main.ts';
import { cliPath } from './built-cli.ts';

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `canon <args>` in this process, the way bin.ts runs it when there is no terminal (no prompt),
 * with NO_COLOR and without DATABASE_URL. Starting a process per command costs seconds (Node, a
 * first PGlite); tests that are about the executable itself use `canonProcess`.
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

/** Runs the real executable (the built dist/cli/bin.js), with NO_COLOR and without DATABASE_URL. */
export function canonProcess(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '', ...env },
  });
}

/** Runs the canon CLI in a child process, without blocking this one (tests hold sessions meanwhile). */
export function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, NO_COLOR: '1', DATABASE_URL: '' };
    const child = spawn(process.execPath, [cliPath, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

import { spawn } from 'node:child_process';
import { cliPath } from './built-cli.ts';

/** Runs the canon CLI in a child process, without blocking this one (tests hold sessions meanwhile). */
export function runCli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
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

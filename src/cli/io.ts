export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What a command may touch of the outside world, so tests can run commands in-process. */
export interface CliIO {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Asks a question on the terminal; absent when there is no terminal to ask on. */
  prompt?: (question: string) => Promise<string>;
}

/**
 * Exit codes, terraform-style: 0 success, 1 error; `--detailed-exitcode` adds 2: changes present
 * (`plan`), warnings but no errors (`validate`).
 */
export const exitCodes = { ok: 0, error: 1, changes: 2, warnings: 2 } as const;

/** A mistake on the command line: printed as one line with a pointer to --help, never a stack trace. */
export class UsageError extends Error {}

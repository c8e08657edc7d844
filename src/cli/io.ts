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

/**
 * Writes lines as they are made, in pieces of about 64 KiB: a large plan is never one string. On
 * Linux, writes to pipes, files and terminals are synchronous, so nothing piles up in memory.
 */
export function writeLines(out: Output, lines: Iterable<string>): void {
  let piece: string[] = [];
  let size = 0;
  for (const line of lines) {
    piece.push(line);
    size += line.length + 1;
    if (size >= 65_536) {
      out.write(`${piece.join('\n')}\n`);
      piece = [];
      size = 0;
    }
  }
  if (piece.length > 0) out.write(`${piece.join('\n')}\n`);
}

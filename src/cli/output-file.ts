import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describeFsError } from '../load/read.ts';
import { UsageError } from './io.ts';

/** Writes a file the user asked for (--out), creating missing folders; a failure is one plain line. */
export function writeOutputFile(command: string, what: string, path: string, text: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
  } catch (e) {
    throw new UsageError(`canon ${command}: cannot write ${what} to ${path}: ${describeFsError(e)}`);
  }
}

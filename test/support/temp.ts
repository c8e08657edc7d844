import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];

/**
 * A new, empty folder for a test's files (registry copies, data folders, plans). It is removed when the
 * test file ends, whether its tests passed or failed; the run's global teardown fails the run when a
 * folder made any other way is left behind.
 */
export function tempDir(prefix = 'canon-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

function removeAll() {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

// A script outside vitest that borrows these helpers (a benchmark) removes its folders when it exits.
if (process.env.VITEST) afterAll(removeAll);
else process.once('exit', removeAll);

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class DatabaseLockedError extends Error {}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive lock on a PGlite data directory. Two processes opening the same directory both
 * succeed and one's writes are silently lost, so Canon refuses the second one. The lock is a file
 * beside the directory (`<dir>.lock`), created with O_EXCL holding the owner's pid; a lock whose
 * process is gone is taken over.
 */
export function lockDataDirectory(dataDir: string, purpose: string): () => void {
  const lockFile = `${dataDir}.lock`;
  mkdirSync(dirname(lockFile), { recursive: true });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, purpose, since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        try {
          unlinkSync(lockFile);
        } catch {
          /* already gone */
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let holder: { pid?: number; purpose?: string; since?: string } = {};
      try {
        holder = JSON.parse(readFileSync(lockFile, 'utf8'));
      } catch {
        /* half-written: treat as stale */
      }
      if (holder.pid !== undefined && isAlive(holder.pid)) {
        throw new DatabaseLockedError(
          `the embedded database ${dataDir} is in use by process ${holder.pid} ` +
            `(${holder.purpose ?? 'canon'}, since ${holder.since ?? '?'}); ` +
            'wait for it to finish, or use --database memory: for a throwaway database',
        );
      }
      try {
        unlinkSync(lockFile);
      } catch {
        /* raced with another taker */
      }
    }
  }
  throw new DatabaseLockedError(`could not lock ${lockFile}; another canon process is starting at the same time`);
}

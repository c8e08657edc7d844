import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import type { ParseLimits } from './parse.ts';

export type ReadOutcome = { bytes: Uint8Array; problem?: undefined } | { bytes?: undefined; problem: Diagnostic };

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'a special file';
}

/** A file system error in words, with its code for searching. */
export function describeFsError(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EACCES: 'permission denied; check its permissions and those of the folders above it',
    EPERM: 'operation not permitted; check its permissions',
    ENOENT: 'it does not exist (a dangling symbolic link?)',
    ELOOP: 'too many levels of symbolic links',
    ENOTDIR: 'a part of its path is not a folder',
    EIO: 'input/output error',
    EISDIR: 'it is a folder',
    ENOSPC: 'no space left on the device',
    EROFS: 'the file system is read-only',
  };
  return code && words[code] ? `${words[code]} (${code})` : (code ?? (e as Error).message);
}

/**
 * Reads a registry or settings file within the limits: a regular file once symbolic links are
 * followed (a FIFO would block forever and /dev/zero never ends), no larger than maxFileBytes, read
 * no further than its size said. Opened without blocking, so a FIFO is refused rather than waited on;
 * the checks use the opened file's own status, so a swap between checking and reading changes nothing.
 */
export function readSourceFile(path: string, file: string, limits: ParseLimits): ReadOutcome {
  const at = { file, line: 1, column: 1 };
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    return { problem: error(codes.unreadable, at, `cannot read the file: ${describeFsError(e)}`) };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const message = `not a regular file but ${kindOf(stats)}; Canon reads only regular files`;
      return { problem: error(codes.unreadable, at, `${message} (symbolic links to them are followed)`) };
    }
    if (stats.size > limits.maxFileBytes) {
      const message = `file is ${stats.size} bytes, over the limit of ${limits.maxFileBytes}`;
      return { problem: error(codes.fileTooLarge, at, `${message}; split it into several files`) };
    }
    const bytes = Buffer.allocUnsafe(stats.size);
    let length = 0;
    while (length < bytes.length) {
      const n = readSync(fd, bytes, length, bytes.length - length, length);
      if (n === 0) break;
      length += n;
    }
    return { bytes: bytes.subarray(0, length) };
  } catch (e) {
    return { problem: error(codes.unreadable, at, `cannot read the file: ${describeFsError(e)}`) };
  } finally {
    closeSync(fd);
  }
}

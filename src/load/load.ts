import { readdirSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, join, relative, sep } from 'node:path';
import { codes } from '../diagnostics/codes.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import type { SourceDocument } from './document.ts';

/** The registry's settings file at its root; not an asset (read by src/config). */
export const configFileName = 'canon.yaml';

import { ParseCache } from './cache.ts';
import { type ParseJob, parseInWorkers, type WorkerSpec } from './parallel.ts';
import { defaultLimits, type ParsedFile, type ParseLimits, parseRegistryFile } from './parse.ts';
import { describeFsError, readSourceFile } from './read.ts';

export interface LoadedRegistry {
  /** The registry folder as given. */
  dir: string;
  documents: SourceDocument[];
  diagnostics: Diagnostic[];
  /** How many files were read. */
  files: number;
}

export interface LoadOptions {
  limits?: ParseLimits;
  /** File names in diagnostics are relative to this folder (default: the working directory). */
  root?: string;
  /** Reuse parse results of unchanged files from this folder (the CLI uses .canon/cache). */
  cacheDir?: string;
  /** How much disk the cache may use before entries this run did not need are removed (default 128 MiB). */
  cacheMaxBytes?: number;
  /**
   * loadRegistryAsync only: how many worker threads parse the files the cache misses; 1 parses on this
   * thread. Default: one per core once the misses pass parallelThresholdBytes, else this thread.
   */
  threads?: number;
  /** loadRegistryAsync only, for tests: another parse worker (see src/load/parallel.ts). */
  worker?: WorkerSpec;
  /** loadRegistryAsync only: told when a parse worker failed (its files were then parsed on this thread). */
  onWorkerError?: (e: Error) => void;
  /** loadRegistryAsync only: how long a silent worker holding files is waited for (ParallelOptions). */
  workerSilenceMs?: number;
}

/**
 * Below this many bytes to parse, loadRegistryAsync parses on its own thread. A worker costs about
 * 0.15 s to start (Node and `yaml` imported again) and each new thread parses its first files before
 * V8 has optimized the parser: a synthetic registry of 1 MB (2,000 assets) took 1.3–1.6 s of CPU on
 * one thread and 2.2–2.5 s on two (this thread and one worker), so two threads win wall time only
 * when a core is idle and the parse is past about 1 MB; measured on 2 cores at load average 15–19,
 * where neither side won at 1–2 MB. 2 MiB (about 4,000 assets) keeps small registries on one thread.
 */
export const parallelThresholdBytes = 2 * 1024 * 1024;

const isRegistryFile = (name: string) => name.endsWith('.yaml') || name.endsWith('.yml');

/**
 * Every `.yaml`/`.yml` file below `dir` (hidden folders skipped), sorted, as paths relative to the
 * working directory. A folder that cannot be listed goes to `unreadable` and the walk goes on.
 */
export function listRegistryFiles(
  dir: string,
  unreadable: (folder: string, e: unknown) => void = (_, e) => {
    throw e;
  },
): string[] {
  const found: string[] = [];
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    let entries;
    try {
      entries = readdirSync(current, { withFileTypes: true });
    } catch (e) {
      unreadable(current, e);
      continue;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(current, entry.name);
      if (entry.isDirectory()) stack.push(path);
      else if (entry.isFile() && isRegistryFile(entry.name) && !(current === dir && entry.name === configFileName))
        found.push(path);
    }
  }
  return found.sort();
}

/** Diagnostics name files as the user would type them: relative to the working directory, with `/`. */
export const displayPath = (path: string, root = process.cwd()) =>
  (relative(root, path) || basename(path)).split(sep).join('/');

/** The registry files a load reads, with a diagnostic per folder it could not list; or why there are none. */
function filesToLoad(
  dir: string,
  root: string,
): { missing: Diagnostic } | { files: string[]; diagnostics: Diagnostic[] } {
  const missing = checkDirectory(dir, root);
  if (missing) return { missing };
  const diagnostics: Diagnostic[] = [];
  const files = listRegistryFiles(dir, (folder, e) => {
    const at = { file: displayPath(folder, root), line: 1, column: 1 };
    diagnostics.push(error(codes.unreadable, at, `cannot list the folder: ${describeFsError(e)}`));
  });
  return { files, diagnostics };
}

/** Stage 1: files → documents with source positions. */
export function loadRegistry(dir: string, options: LoadOptions = {}): LoadedRegistry {
  const limits = options.limits ?? defaultLimits;
  const root = options.root ?? process.cwd();
  const listed = filesToLoad(dir, root);
  if ('missing' in listed) return { dir, documents: [], diagnostics: [listed.missing], files: 0 };
  const { files, diagnostics } = listed;
  const documents: SourceDocument[] = [];
  const cache = options.cacheDir ? new ParseCache(options.cacheDir, options.cacheMaxBytes) : undefined;
  for (const path of files) {
    const parsed = readRegistryFile(path, displayPath(path, root), limits, cache);
    documents.push(...parsed.documents);
    diagnostics.push(...parsed.diagnostics);
  }
  cache?.finish();
  return { dir, documents, diagnostics, files: files.length };
}

/**
 * Stage 1 as loadRegistry, with the files the cache misses parsed on worker threads when there are
 * enough of them (options.threads): the same documents in the same order, and the same diagnostics.
 * The cache is read here; entries of files a worker parsed are written by that worker.
 */
export async function loadRegistryAsync(dir: string, options: LoadOptions = {}): Promise<LoadedRegistry> {
  const limits = options.limits ?? defaultLimits;
  const root = options.root ?? process.cwd();
  const listed = filesToLoad(dir, root);
  if ('missing' in listed) return { dir, documents: [], diagnostics: [listed.missing], files: 0 };
  const { files, diagnostics } = listed;
  const cache = options.cacheDir ? new ParseCache(options.cacheDir, options.cacheMaxBytes) : undefined;
  const parsed: ParsedFile[] = new Array(files.length);
  const misses: { job: ParseJob; slot: number }[] = [];
  files.forEach((path, slot) => {
    const file = displayPath(path, root);
    const read = readSourceFile(path, file, limits);
    if (read.problem) {
      parsed[slot] = { documents: [], diagnostics: [read.problem] };
      return;
    }
    const cached = cache?.lookup(file, read.bytes, limits);
    if (cached?.hit) parsed[slot] = cached.hit;
    else misses.push({ job: { file, bytes: read.bytes, entry: cached?.entry }, slot });
  });
  // A worker that parsed a file wrote its cache entry too (stored: its bytes); this thread's are stored here.
  const fresh = (k: number, result: ParsedFile, stored?: number) => {
    const { slot, job } = misses[k]!;
    parsed[slot] = result;
    if (!cache || !job.entry) return;
    if (stored === undefined) cache.store(job.entry, result);
    else cache.stored(stored);
  };
  const bytes = misses.reduce((sum, m) => sum + m.job.bytes.length, 0);
  const threads = options.threads ?? (bytes >= parallelThresholdBytes ? availableParallelism() : 1);
  const jobs = misses.map((m) => m.job);
  if (threads > 1) {
    const { worker, onWorkerError, workerSilenceMs } = options;
    const parallel = {
      threads,
      onWorkerError,
      ...(worker ? { worker } : {}),
      ...(workerSilenceMs ? { silenceMs: workerSilenceMs } : {}),
    };
    await parseInWorkers(jobs, limits, parallel, fresh);
  } else {
    jobs.forEach((job, k) => fresh(k, parseRegistryFile(job.file, job.bytes, limits)));
  }
  cache?.finish();
  const documents: SourceDocument[] = [];
  for (const result of parsed) {
    documents.push(...result.documents);
    diagnostics.push(...result.diagnostics);
  }
  return { dir, documents, diagnostics, files: files.length };
}

/** One registry file → its documents, or the reason it could not be read. `file` is its name in diagnostics. */
export function readRegistryFile(path: string, file: string, limits = defaultLimits, cache?: ParseCache): ParsedFile {
  // The one safe reader: regular files only, size checked before reading, never blocking on a FIFO.
  const read = readSourceFile(path, file, limits);
  if (read.problem) return { documents: [], diagnostics: [read.problem] };
  const bytes = read.bytes;
  const fresh = () => parseRegistryFile(file, bytes, limits);
  return cache ? cache.parse(file, bytes, limits, fresh) : fresh();
}

export function checkDirectory(dir: string, root: string): Diagnostic | undefined {
  const at = { file: displayPath(dir, root), line: 1, column: 1 };
  try {
    if (statSync(dir).isDirectory()) return undefined;
    return error(codes.noRegistry, at, 'not a folder; pass the registry folder with --dir');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') {
      return error(codes.unreadable, at, `cannot read the folder: ${describeFsError(e)}`);
    }
    return error(codes.noRegistry, at, 'no such folder; create it or pass the registry folder with --dir');
  }
}

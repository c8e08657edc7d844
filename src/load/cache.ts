import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { threadId } from 'node:worker_threads';
import type { ParsedFile, ParseLimits } from './parse.ts';

/** What the cache may hold on disk before old entries are removed (the current run's are always kept). */
export const defaultCacheMaxBytes = 128 * 1024 * 1024;

/** A file system block: what a small entry really costs on disk. */
const block = 4096;
const onDisk = (bytes: number) => Math.ceil(bytes / block) * block;
/** A temporary file older than this was left by a run that died; younger ones may be being written. */
const staleTemporaryMs = 60 * 60 * 1000;
const usageFile = 'usage.json';
/** Where chunk entries went before they shared the shards (never pruned then): removed when pruning. */
const legacyChunksFolder = 'chunks';

interface Usage {
  bytes: number;
  floor: number;
}
const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/**
 * Parsed files by content hash: parsing YAML is most of what `canon validate` and `canon plan` spend
 * on a large registry, and most files do not change between runs. An entry is the parse result as
 * JSON (documents with their position index, and diagnostics); it is keyed by the file's bytes, its
 * display name, the limits and a format version, so any of them changing misses the cache. Writes go
 * through a temporary file and a rename, so concurrent runs never read half an entry.
 *
 * Every edit leaves an entry behind, so the cache is bounded: after a run that wrote entries, when
 * the estimated size passes `maxBytes`, entries this run did not use are removed, oldest first, until
 * it fits. The current run's entries stay even if they alone are larger (they are the registry's
 * working set); then the cache may grow a quarter of `maxBytes` past what the last pruning left
 * before it is scanned again, so that every edit of a huge registry does not rescan it. The estimate
 * lives in usage.json, so a run that wrote little does not scan the cache.
 */
export class ParseCache {
  // 2: parse results report U+0000 in strings (CANON113).
  // 3: integers beyond 2^53 are read exactly (as bigints, which are not cached).
  private static readonly version = '3';
  private readonly used = new Set<string>();
  private writtenBytes = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = defaultCacheMaxBytes,
  ) {}

  private pathOf(file: string, bytes: Uint8Array, limits: ParseLimits): string {
    const key = createHash('sha256')
      .update(ParseCache.version)
      .update('\0')
      .update(file)
      .update('\0')
      .update(JSON.stringify(limits))
      .update('\0')
      .update(bytes)
      .digest('hex');
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The cached parse of these bytes, or a fresh one (which is then stored): the key is hashed once. */
  parse(file: string, bytes: Uint8Array, limits: ParseLimits, parseFresh: () => ParsedFile): ParsedFile {
    const { entry, hit } = this.lookup(file, bytes, limits);
    if (hit) return hit;
    const parsed = parseFresh();
    this.store(entry, parsed);
    return parsed;
  }

  /**
   * The entry for these bytes (to `store` a fresh parse under) and its parse if cached: for a load that
   * parses its misses elsewhere (worker threads) and stores them as they come back.
   */
  lookup(file: string, bytes: Uint8Array, limits: ParseLimits): { entry: string; hit: ParsedFile | undefined } {
    const entry = this.pathOf(file, bytes, limits);
    this.used.add(entry);
    try {
      return { entry, hit: JSON.parse(readFileSync(entry, 'utf8')) as ParsedFile };
    } catch {
      return { entry, hit: undefined };
    }
  }

  store(path: string, parsed: ParsedFile): void {
    this.writtenBytes += storeEntry(path, parsed);
  }

  /** An entry another thread stored (storeEntry) for this run, `bytes` on disk. */
  stored(bytes: number): void {
    this.writtenBytes += bytes;
  }

  /** Call once the run's files are parsed: keeps the cache within its bound. Never throws. */
  finish(): void {
    if (this.writtenBytes === 0) return;
    try {
      const usage = this.readUsage();
      const estimate = usage.bytes + this.writtenBytes;
      const limit = usage.floor > this.maxBytes ? usage.floor + this.maxBytes / 4 : this.maxBytes;
      if (estimate > limit) {
        const left = this.prune();
        this.writeUsage({ bytes: left, floor: left });
      } else {
        this.writeUsage({ bytes: estimate, floor: usage.floor });
      }
    } catch {
      // Pruning is housekeeping: a cache folder that cannot be listed only costs disk space.
    }
    this.writtenBytes = 0;
  }

  /** Removes entries this run did not use, oldest first, until the cache fits; returns its size. */
  private prune(): number {
    const now = Date.now();
    const unused: { path: string; bytes: number; mtimeMs: number }[] = [];
    let total = 0;
    for (const shard of readdirSync(this.dir, { withFileTypes: true })) {
      if (!shard.isDirectory()) continue;
      if (shard.name === legacyChunksFolder) {
        rmSync(join(this.dir, shard.name), { recursive: true, force: true });
        continue;
      }
      for (const name of readdirSync(join(this.dir, shard.name))) {
        const path = join(this.dir, shard.name, name);
        let stats;
        try {
          stats = statSync(path);
        } catch {
          continue; /* removed by a concurrent run */
        }
        const bytes = Math.max(stats.blocks * 512, onDisk(stats.size));
        total += bytes;
        if (this.used.has(path)) continue;
        if (name.endsWith('.tmp') && now - stats.mtimeMs < staleTemporaryMs) continue;
        unused.push({ path, bytes, mtimeMs: stats.mtimeMs });
      }
    }
    unused.sort((a, b) => a.mtimeMs - b.mtimeMs);
    for (const entry of unused) {
      if (total <= this.maxBytes) break;
      try {
        unlinkSync(entry.path);
        total -= entry.bytes;
      } catch {
        /* removed by a concurrent run */
      }
    }
    return total;
  }

  /** The estimated size, and the size the last pruning left. No record (a new cache): scan once to learn it. */
  private readUsage(): Usage {
    try {
      const { bytes, floor } = JSON.parse(readFileSync(join(this.dir, usageFile), 'utf8')) as Partial<Usage>;
      if (isSize(bytes) && isSize(floor)) return { bytes, floor };
    } catch {
      /* no record, or a damaged one */
    }
    return { bytes: Infinity, floor: 0 };
  }

  private writeUsage(usage: Usage): void {
    if (!isSize(usage.bytes)) return;
    const temporary = join(this.dir, `${usageFile}.${process.pid}.tmp`);
    writeFileSync(temporary, JSON.stringify(usage));
    renameSync(temporary, join(this.dir, usageFile));
  }
}

/** Shard folders this process made or found, so each costs one mkdir per process, not one per entry. */
const shardsMade = new Set<string>();

/**
 * Writes a parse result as the entry at `path` (writeEntry) and returns its size on disk; 0 when it was
 * not written. Also used by parse workers, for the files they parse.
 */
export function storeEntry(path: string, parsed: ParsedFile): number {
  // YAML's .inf and .nan, and integers beyond 2^53, do not survive JSON: such a file is simply not cached.
  if (!parsed.documents.every((d) => jsonHolds(d.value, new Set()))) return 0;
  try {
    return writeEntry(path, JSON.stringify(parsed));
  } catch {
    return 0; // a value JSON cannot serialize (a cycle)
  }
}

/**
 * Writes `text` as the cache entry at `path`, through a temporary file and a rename so that a
 * concurrent reader never sees half of it; returns its size on disk, 0 when it could not be written.
 * The parse cache's entries and the chunk cache's (which shares its shards) go through here.
 */
export function writeEntry(path: string, text: string): number {
  try {
    const shard = dirname(path);
    if (!shardsMade.has(shard)) {
      mkdirSync(shard, { recursive: true });
      shardsMade.add(shard);
    }
    const temporary = `${path}.${process.pid}.${threadId}.tmp`;
    writeFileSync(temporary, text);
    renameSync(temporary, path);
    return onDisk(Buffer.byteLength(text));
  } catch {
    // A cache that cannot be written (read-only checkout) only costs speed; a folder removed meanwhile
    // is made again next time.
    shardsMade.delete(dirname(path));
    return 0;
  }
}

/** Whether JSON holds a document's value exactly: no non-finite numbers, no bigints (shared nodes once). */
function jsonHolds(value: unknown, seen: Set<object>): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value === 'bigint') return false;
  if (typeof value !== 'object' || value === null || seen.has(value)) return true;
  seen.add(value);
  if (Array.isArray(value)) return value.every((v) => jsonHolds(v, seen));
  for (const key in value) if (!jsonHolds((value as Record<string, unknown>)[key], seen)) return false;
  return true;
}

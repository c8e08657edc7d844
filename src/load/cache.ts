import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ParsedFile, ParseLimits } from './parse.ts';

/**
 * Parsed files by content hash: parsing YAML is most of what `canon validate` and `canon plan` spend
 * on a large registry, and most files do not change between runs. An entry is the parse result as
 * JSON (documents with their position index, and diagnostics); it is keyed by the file's bytes, its
 * display name, the limits and a format version, so any of them changing misses the cache. Writes go
 * through a temporary file and a rename, so concurrent runs never read half an entry.
 */
export class ParseCache {
  private static readonly version = '1';

  constructor(private readonly dir: string) {}

  private pathOf(file: string, bytes: Uint8Array, limits: ParseLimits): string {
    const key = createHash('sha256').update(ParseCache.version).update('\0').update(file).update('\0').update(JSON.stringify(limits)).update('\0').update(bytes).digest('hex');
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  /** The cached parse of these bytes, or a fresh one (which is then stored): the key is hashed once. */
  parse(file: string, bytes: Uint8Array, limits: ParseLimits, parseFresh: () => ParsedFile): ParsedFile {
    const path = this.pathOf(file, bytes, limits);
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as ParsedFile;
    } catch {
      const parsed = parseFresh();
      this.store(path, parsed);
      return parsed;
    }
  }

  private store(path: string, parsed: ParsedFile): void {
    let lossy = false;
    // YAML's .inf and .nan do not survive JSON: such a file is simply not cached.
    const text = JSON.stringify(parsed, (_key, value: unknown) => {
      if (typeof value === 'number' && !Number.isFinite(value)) lossy = true;
      return value;
    });
    if (lossy) return;
    try {
      mkdirSync(join(path, '..'), { recursive: true });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, text);
      renameSync(temporary, path);
    } catch {
      // A cache that cannot be written (read-only checkout) only costs speed.
    }
  }
}

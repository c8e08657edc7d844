import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type FileChange, type RegistryWatcher, watchRegistry } from '../../src/tui/watcher.ts';
import { tempDir } from '../support/temp.ts';

/** Resolves once `ok` holds for the reports so far; fails naming them after the deadline. */
function until(reports: FileChange[], ok: (r: FileChange[]) => boolean, what: string, deadlineMs = 20_000) {
  const started = Date.now();
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ok(reports)) return resolve();
      if (Date.now() - started > deadlineMs)
        return reject(new Error(`no report of ${what}; reports: ${JSON.stringify(reports)}`));
      setTimeout(check, 20);
    };
    check();
  });
}

describe('the registry watcher', () => {
  let watcher: RegistryWatcher | undefined;
  afterEach(async () => watcher?.close());

  it('watches a folder removed and made again before it noticed, and reports it as created', async () => {
    const dir = join(tempDir('canon-watch-'), 'registry');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), 'kind: Tool\n');
    const reports: FileChange[] = [];
    watcher = watchRegistry(
      dir,
      (c) => reports.push(c),
      (m) => reports.push({ path: m, change: 'deleted' }),
      {
        reappearMs: 50,
        sweepMs: 100,
      },
    );
    await watcher.ready;
    // In one tick, as a branch switch does it: no event loop turn sees the folder missing.
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), 'kind: Tool\n');
    await until(reports, (r) => r.some((c) => c.path === dir && c.change === 'created'), 'the folder made again');
    const seen = reports.length;
    writeFileSync(join(dir, 'b.yaml'), 'kind: Prompt\n');
    await until(
      reports,
      (r) => r.slice(seen).some((c) => c.path.endsWith('b.yaml') && c.change === 'created'),
      'a file created in the new folder',
    );
    expect(reports.filter((c) => c.path === dir).map((c) => c.change)).toEqual(['created']);
  });
});

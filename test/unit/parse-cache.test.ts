import { appendFileSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { listRegistryFiles, loadRegistry } from '../../src/load/load.ts';
import { copyRegistry, edit } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

it('returns exactly what a fresh parse returns, misses on edits, and survives a corrupt entry', () => {
  const dir = copyRegistry();
  const cacheDir = tempDir('canon-cache-');
  const fresh = loadRegistry(dir);
  const first = loadRegistry(dir, { cacheDir });
  const cached = loadRegistry(dir, { cacheDir });
  expect(first).toEqual(fresh);
  expect(cached).toEqual(fresh);
  const entries = [...cacheEntries(cacheDir).keys()];
  expect(entries.length).toBe(fresh.files);

  edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 451');
  const edited = loadRegistry(dir, { cacheDir });
  expect(edited).toEqual(loadRegistry(dir));
  expect(JSON.stringify(edited)).toContain('"avg_response_time_ms":451');

  for (const entry of entries) writeFileSync(join(cacheDir, entry), '{ not json');
  expect(loadRegistry(dir, { cacheDir })).toEqual(loadRegistry(dir));
});

it('does not cache a file whose values JSON cannot hold (.nan, .inf)', () => {
  const dir = copyRegistry();
  writeFileSync(join(dir, 'odd.yaml'), 'kind: Tool\nid: odd\nname: Odd\nreliability_score: .nan\n');
  const cacheDir = tempDir('canon-cache-');
  loadRegistry(dir, { cacheDir });
  const again = loadRegistry(dir, { cacheDir });
  expect(again).toEqual(loadRegistry(dir));
  expect(again.documents.find((d) => (d.value as { id?: string }).id === 'odd')!.value).toMatchObject({
    reliability_score: NaN,
  });
});

/** The cache's entries (path → bytes on disk), leaving out its small usage record. */
function cacheEntries(cacheDir: string): Map<string, number> {
  const entries = new Map<string, number>();
  for (const shard of readdirSync(cacheDir, { withFileTypes: true })) {
    if (!shard.isDirectory()) continue;
    for (const name of readdirSync(join(cacheDir, shard.name))) {
      const stats = statSync(join(cacheDir, shard.name, name));
      const bytes = Math.max(stats.blocks * 512, Math.ceil(stats.size / 4096) * 4096);
      entries.set(`${shard.name}/${name}`, bytes);
    }
  }
  return entries;
}
const total = (entries: Map<string, number>) => [...entries.values()].reduce((a, b) => a + b, 0);

/** A copy of the example registry whose every file differs from other variants' (so no entry is shared). */
function variant(n: number): string {
  const dir = copyRegistry();
  for (const file of listRegistryFiles(dir)) appendFileSync(file, `# variant ${n}\n`);
  return dir;
}

it('stays within its bound, removing entries the run did not use, oldest first', () => {
  const cacheDir = tempDir('canon-cache-');
  const registries = [0, 1, 2, 3].map(variant);
  loadRegistry(registries[0]!, { cacheDir, cacheMaxBytes: Infinity });
  const first = cacheEntries(cacheDir);
  // Written long ago: the oldest entries, so the first to go.
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (const entry of first.keys()) utimesSync(join(cacheDir, entry), hourAgo, hourAgo);
  const bound = Math.floor(total(first) * 2.5);
  for (const dir of registries.slice(1)) {
    loadRegistry(dir, { cacheDir, cacheMaxBytes: bound });
    expect(total(cacheEntries(cacheDir))).toBeLessThanOrEqual(bound);
  }
  const kept = cacheEntries(cacheDir);
  expect([...first.keys()].filter((e) => kept.has(e))).toEqual([]);
  // The last run's entries all survived: running it again hits every one and writes nothing.
  const again = loadRegistry(registries[3]!, { cacheDir, cacheMaxBytes: bound });
  expect(cacheEntries(cacheDir)).toEqual(kept);
  expect(again).toEqual(loadRegistry(registries[3]!));
});

it('keeps the working set of the current run even when it alone is over the bound', () => {
  const cacheDir = tempDir('canon-cache-');
  const [a, b] = [variant(0), variant(1)];
  const loaded = loadRegistry(a, { cacheDir, cacheMaxBytes: 1 });
  expect(cacheEntries(cacheDir).size).toBe(loaded.files);
  loadRegistry(b, { cacheDir, cacheMaxBytes: 1 });
  const onlyB = cacheEntries(cacheDir);
  expect(onlyB.size).toBe(loaded.files);
  loadRegistry(b, { cacheDir, cacheMaxBytes: 1 });
  expect(cacheEntries(cacheDir)).toEqual(onlyB);
});

it('over the bound by its working set alone, grows at most a quarter of the bound before pruning again', () => {
  const cacheDir = tempDir('canon-cache-');
  const dir = variant(0);
  const loaded = loadRegistry(dir, { cacheDir, cacheMaxBytes: Infinity });
  const workingSet = total(cacheEntries(cacheDir));
  const bound = Math.floor(workingSet / 2);
  loadRegistry(dir, { cacheDir, cacheMaxBytes: bound });
  const sizes: number[] = [];
  for (let edit = 0; edit < 40; edit++) {
    appendFileSync(join(dir, 'platform/tools.yaml'), `# edit ${edit}\n`);
    loadRegistry(dir, { cacheDir, cacheMaxBytes: bound });
    sizes.push(cacheEntries(cacheDir).size);
    // One block of slack: an edited file's entry may take a block more than the one it replaces.
    expect(total(cacheEntries(cacheDir))).toBeLessThanOrEqual(workingSet + bound / 4 + 4096);
  }
  // Stale entries did pile up between scans, and the scans removed them.
  expect(Math.max(...sizes)).toBeGreaterThan(loaded.files + 1);
  expect(sizes.filter((n) => n === loaded.files).length).toBeGreaterThan(0);
});

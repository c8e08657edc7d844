import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { loadRegistry } from '../../src/load/load.ts';
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
  const entries = readdirSync(cacheDir, { recursive: true }).filter((f) => String(f).endsWith('.json'));
  expect(entries.length).toBe(fresh.files);

  edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 451');
  const edited = loadRegistry(dir, { cacheDir });
  expect(edited).toEqual(loadRegistry(dir));
  expect(JSON.stringify(edited)).toContain('"avg_response_time_ms":451');

  for (const entry of entries) writeFileSync(join(cacheDir, String(entry)), '{ not json');
  expect(loadRegistry(dir, { cacheDir })).toEqual(loadRegistry(dir));
});

it('does not cache a file whose values JSON cannot hold (.nan, .inf)', () => {
  const dir = copyRegistry();
  writeFileSync(join(dir, 'odd.yaml'), 'kind: Tool\nid: odd\nname: Odd\nreliability_score: .nan\n');
  const cacheDir = tempDir('canon-cache-');
  loadRegistry(dir, { cacheDir });
  const again = loadRegistry(dir, { cacheDir });
  expect(again).toEqual(loadRegistry(dir));
  expect(again.documents.find((d) => (d.value as { id?: string }).id === 'odd')!.value).toMatchObject({ reliability_score: NaN });
});

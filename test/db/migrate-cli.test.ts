import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { canon } from '../support/cli.ts';
import { tempDir } from '../support/temp.ts';

it('canon migrate creates the schema in a data folder, then finds nothing to do', async () => {
  const dir = join(tempDir('canon-cli-'), 'db');
  const first = await canon(['migrate', '--database', `pglite:${dir}`]);
  expect(first.status).toBe(0);
  expect(first.stdout).toMatch(/^Schema changes \(.*\):\n {2}\+ create extension vector\n/);
  expect(first.stdout).toMatch(/\n {2}\+ create table agents \(\d+ columns\)\n/);
  expect(first.stdout).toMatch(/\nApplied \d+ changes \(\d+ statements\) in \d+ ms\.\n$/);
  const second = await canon(['migrate', '--database', `pglite:${dir}`, '--format', 'json']);
  expect(second.status).toBe(0);
  expect(JSON.parse(second.stdout)).toEqual({ format_version: '1', database: dir, applied: false, changes: [] });
});

it('canon migrate --dry-run --format sql prints the statements and changes nothing', async () => {
  const dir = join(tempDir('canon-cli-'), 'db');
  const dry = await canon(['migrate', '--database', `pglite:${dir}`, '--dry-run', '--format', 'sql']);
  expect(dry.status).toBe(0);
  expect(dry.stdout).toMatch(/^CREATE EXTENSION IF NOT EXISTS "vector";\nCREATE TABLE "agents" \(/);
  const again = await canon(['migrate', '--database', `pglite:${dir}`, '--dry-run', '--format', 'sql']);
  expect(again.stdout).toBe(dry.stdout);
});

it('reads --no-embeddings from the registry settings and rejects bad settings with a position', async () => {
  const root = tempDir('canon-cli-');
  mkdirSync(join(root, 'registry'));
  writeFileSync(join(root, 'registry', 'canon.yaml'), 'embeddings:\n  enabled: false\n');
  const off = await canon([
    'migrate',
    '--database',
    'memory:',
    '--dir',
    join(root, 'registry'),
    '--dry-run',
    '--format',
    'sql',
  ]);
  expect(off.status).toBe(0);
  expect(off.stdout).toContain('CREATE TABLE "knowledge_chunks"');
  expect(off.stdout).not.toMatch(/EXTENSION IF NOT EXISTS "vector"|vector\(\d+\)/);
  writeFileSync(join(root, 'registry', 'canon.yaml'), 'embeddings:\n  enabled: false\n  dimension: 3\n');
  const bad = await canon(['migrate', '--database', 'memory:', '--dir', join(root, 'registry')]);
  expect(bad.status).toBe(1);
  expect(bad.stderr).toContain(
    "canon.yaml:3:3: error CANON203: unknown setting 'dimension' in canon.yaml. Did you mean 'dimensions'?",
  );
});

import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../support/built-cli.ts';
import { copyRegistry } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

const cli = (args: string[]) =>
  spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DATABASE_URL: '' },
  });
const root = tempDir('canon-import-cli-');
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('canon import, as a user runs it', () => {
  it('imports every row with --all, refuses a non-empty folder, and says what it skipped', () => {
    const db = `pglite:${join(root, 'db')}`;
    const dir = copyRegistry();
    expect(cli(['apply', '--dir', dir, '--database', db, '--auto-approve']).status).toBe(0);

    const none = cli(['import', '--database', db, '--out', join(root, 'none')]);
    expect(none.status).toBe(0);
    expect(none.stdout).toMatch(
      /^Imported 0 assets from .* into 0 files under .*; skipped \d+ already managed by Canon \(use --all\)\.\n$/,
    );

    const out = join(root, 'all');
    const all = cli(['import', '--database', db, '--out', out, '--all', '--format', 'json']);
    expect(all.status).toBe(0);
    const summary = JSON.parse(all.stdout);
    expect(summary.imported).toBeGreaterThan(100);
    expect(summary.files).toContain('platform/agents.yaml');
    expect(readdirSync(join(out, 'tenants')).sort()).toEqual(readdirSync(join(dir, 'tenants')).sort());

    const full = join(root, 'full');
    mkdirSync(full);
    writeFileSync(join(full, 'keep.yaml'), 'kind: Industry\n');
    const refused = cli(['import', '--database', db, '--out', full]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('is not empty; import writes into an empty folder');

    const badKind = cli(['import', '--database', db, '--out', join(root, 'x'), '--kind', 'Agnet']);
    expect(badKind.status).toBe(1);
    expect(badKind.stderr).toContain("unknown kind 'Agnet'");
  }, 240_000);
});

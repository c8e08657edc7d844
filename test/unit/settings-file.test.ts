import { spawnSync } from 'node:child_process';
import { closeSync, ftruncateSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { catalog, copyRegistry } from '../support/registry.ts';

// The settings file gets the registry files' limits: only regular files (after following symbolic
// links), a size cap, UTF-8, located diagnostics. The CLI runs in a child process with a time limit
// because, without the limits, a FIFO blocks the reading thread forever.
const cli = (args: string[]) => spawnSync(process.execPath, ['src/cli/bin.mjs', ...args], {
  encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' },
});
const validate = (dir: string) => cli(['validate', '--dir', dir]);
const plan = (dir: string) => cli(['plan', '--dir', dir, '--database', 'memory:']);
const located = (list: { file: string; line: number; column: number; code: string }[]) =>
  list.map((d) => `${d.file}:${d.line}:${d.column} ${d.code}`);
const limits = { maxFileBytes: 100, maxDepth: 64, maxAliasCount: 100 };

function registryWithSettings(place: (path: string) => void): string {
  const dir = copyRegistry();
  rmSync(join(dir, 'canon.yaml'));
  place(join(dir, 'canon.yaml'));
  return dir;
}

describe('registry/canon.yaml is read with the limits of registry files', () => {
  it('refuses a symbolic link to /dev/zero without reading it', () => {
    const dir = registryWithSettings((path) => symlinkSync('/dev/zero', path));
    const result = validate(dir);
    expect(result.signal).toBeNull();
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/canon\.yaml:1:1: error CANON111: not a regular file but a character device/);
    expect(result.stderr).toBe('');
  });

  it('refuses a FIFO without waiting for a writer, in validate and in plan', () => {
    const dir = registryWithSettings((path) => expect(spawnSync('mkfifo', [path]).status).toBe(0));
    const validated = validate(dir);
    expect(validated.signal).toBeNull();
    expect(validated.status).toBe(1);
    expect(validated.stdout).toMatch(/registry\/canon\.yaml:1:1: error CANON111: not a regular file but a FIFO; /);
    const planned = plan(dir);
    expect(planned.signal).toBeNull();
    expect(planned.status).toBe(1);
    expect(planned.stderr).toMatch(/registry\/canon\.yaml:1:1: error CANON111: not a regular file but a FIFO; /);
    expect(planned.stderr).toMatch(/\ncanon: canon\.yaml has errors; nothing was done\n$/);
  });

  it('refuses an oversized file by its size, unread (a sparse 3 GiB file)', () => {
    const dir = registryWithSettings((path) => {
      const fd = openSync(path, 'w');
      ftruncateSync(fd, 3 * 1024 ** 3);
      closeSync(fd);
    });
    const result = validate(dir);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/canon\.yaml:1:1: error CANON104: file is 3221225472 bytes, over the limit/);
    expect(located(loadConfig(dir, dirname(dir), limits).diagnostics)).toEqual(['registry/canon.yaml:1:1 CANON104']);
  });

  it('applies the size cap it is given, and the UTF-8 check', () => {
    const dir = registryWithSettings((path) => writeFileSync(path, `embeddings:\n  model: "${'x'.repeat(200)}"\n`));
    const checked = checkRegistry(dir, catalog, { root: dirname(dir), limits }).diagnostics;
    const settings = checked.filter((d) => d.file === 'registry/canon.yaml');
    expect(located(settings)).toEqual(['registry/canon.yaml:1:1 CANON104']);
    writeFileSync(join(dir, 'canon.yaml'), Buffer.from('embeddings:\n  model: "caf\xe9"\n', 'latin1'));
    expect(located(loadConfig(dir, dirname(dir)).diagnostics)).toEqual(['registry/canon.yaml:2:14 CANON103']);
  });

  it('follows a symbolic link to a regular file, and treats a missing file as defaults', () => {
    const dir = registryWithSettings((path) => {
      const target = join(dirname(dirname(path)), 'settings.yaml');
      writeFileSync(target, 'embeddings:\n  dimensions: 8\n');
      symlinkSync(target, path);
    });
    expect(loadConfig(dir, dirname(dir))).toMatchObject({ config: { embeddings: { dimensions: 8 } }, diagnostics: [] });
    rmSync(join(dir, 'canon.yaml'));
    const defaults = loadConfig(dir, dirname(dir));
    expect(defaults).toMatchObject({ config: { embeddings: { dimensions: 1536 } }, diagnostics: [] });
  });

  it('reports a dangling symbolic link, located', () => {
    const dir = registryWithSettings((path) => symlinkSync(join(dirname(path), 'gone.yaml'), path));
    expect(loadConfig(dir, dirname(dir)).diagnostics).toEqual([expect.objectContaining({
      file: 'registry/canon.yaml', line: 1, column: 1, code: 'CANON111',
      message: expect.stringMatching(/does not exist/),
    })]);
  });
});

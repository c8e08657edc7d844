import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, ftruncateSync, mkdirSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { checkRegistry } from '../../src/pipeline/check.ts';
import { cliPath } from '../support/built-cli.ts';
import { catalog, copyRegistry } from '../support/registry.ts';

// The settings file gets the registry files' limits: only regular files (after following symbolic
// links), a size cap, UTF-8, located diagnostics. The CLI runs in a child process with a time limit
// because, without the limits, a FIFO blocks the reading thread forever.
const cli = (args: string[]) =>
  spawnSync(process.execPath, [cliPath, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1' },
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
    expect(loadConfig(dir, dirname(dir)).diagnostics).toEqual([
      expect.objectContaining({
        file: 'registry/canon.yaml',
        line: 1,
        column: 1,
        code: 'CANON111',
        message: expect.stringMatching(/does not exist/),
      }),
    ]);
  });
});

/**
 * Runs `read` with `paths` unreadable. chmod 000 does not stop root, and tests may run as root: then
 * the effective user id is switched to nobody around `read` (the real id stays root, so it switches
 * back), with the folders above made traversable for it. Either way the reads really fail with EACCES.
 */
function withoutPermission<T>(registry: string, paths: string[], read: () => T): T {
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chmodSync(dirname(registry), 0o755);
  for (const path of paths) chmodSync(path, 0o000);
  try {
    if (asRoot) process.seteuid!(65534);
    try {
      return read();
    } finally {
      if (asRoot) process.seteuid!(0);
    }
  } finally {
    for (const path of paths) chmodSync(path, 0o755);
  }
}

describe('unreadable registry folders and settings files are located diagnostics, not internal errors', () => {
  it('names a folder it cannot list (CANON111), and still checks the rest', () => {
    const dir = copyRegistry();
    const check = () => checkRegistry(dir, catalog, { root: dirname(dir) });
    const result = withoutPermission(dir, [join(dir, 'tenants')], check);
    const unreadable = result.diagnostics.filter((d) => d.code === 'CANON111');
    expect(unreadable).toEqual([expect.objectContaining({ file: 'registry/tenants', line: 1, column: 1 })]);
    expect(unreadable[0]!.message).toBe(
      'cannot list the folder: permission denied; check its permissions and those of the folders above it (EACCES)',
    );
    expect(result.graph.assets.length).toBeGreaterThan(50);
  });

  it('names a registry folder it may not enter (CANON111, not "no such folder")', () => {
    const dir = copyRegistry();
    const parent = join(dirname(dir), 'locked');
    mkdirSync(parent);
    const inside = join(parent, 'registry');
    mkdirSync(inside);
    const check = () => checkRegistry(inside, catalog, { root: dirname(dir) });
    const result = withoutPermission(dir, [parent], check);
    expect(result.diagnostics).toEqual([expect.objectContaining({ file: 'locked/registry', code: 'CANON111' })]);
    expect(result.diagnostics[0]!.message).toMatch(/^cannot read the folder: permission denied; .*\(EACCES\)$/);
  });

  it('names a canon.yaml it may not read (CANON111)', () => {
    const dir = copyRegistry();
    const { diagnostics } = withoutPermission(dir, [join(dir, 'canon.yaml')], () => loadConfig(dir, dirname(dir)));
    expect(located(diagnostics)).toEqual(['registry/canon.yaml:1:1 CANON111']);
    expect(diagnostics[0]!.message).toMatch(/^cannot read the file: permission denied; .*\(EACCES\)$/);
  });

  it('names a folder standing where canon.yaml should be (a read that fails for root too)', () => {
    const dir = registryWithSettings((path) => mkdirSync(path));
    const result = validate(dir);
    expect(result.status).toBe(1);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/canon\.yaml:1:1: error CANON111: not a regular file but a folder; /);
  });
});

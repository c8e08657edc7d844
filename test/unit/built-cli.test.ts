import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath } from '../support/built-cli.ts';
import { tempDir } from '../support/temp.ts';

// The compiled CLI (dist/, rebuilt by vitest's global setup), run as a user runs it: from a folder
// of their own, with its caches in that folder and in a user cache folder of its own.
const scratch = tempDir('canon-built-cli-');
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const tracer = join(import.meta.dirname, '..', 'support', 'trace-loads.mjs');
const exampleRegistry = resolve('registry');
let runs = 0;

function canon(args: string[], options: { cwd?: string; userCache?: string; trace?: boolean } = {}) {
  const traceFile = join(scratch, `trace-${runs++}.txt`);
  const cwd = options.cwd ?? scratch;
  const userCache = options.userCache ?? join(scratch, 'user-cache');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', DATABASE_URL: '', XDG_CACHE_HOME: userCache };
  if (options.trace) env.TRACE_LOADS_FILE = traceFile;
  const preload = options.trace ? ['--import', tracer] : [];
  const result = spawnSync(process.execPath, [...preload, cliPath, ...args], { cwd, encoding: 'utf8', env });
  const traced = options.trace && existsSync(traceFile) ? readFileSync(traceFile, 'utf8') : '';
  const loaded = traced.split('\n').filter(Boolean);
  return { ...result, loaded };
}

/** The packages (node_modules folders) among loaded files, e.g. `yaml`, `@electric-sql/pglite`. */
function packagesOf(files: string[]): string[] {
  const names = files.flatMap((file) => {
    const inPackage = file.slice(file.lastIndexOf('node_modules') - 1); // the innermost node_modules
    const match = /[/\\]node_modules[/\\]((?:@[^/\\]+[/\\])?[^/\\]+)/.exec(inPackage);
    return match ? [match[1]!.replace('\\', '/')] : [];
  });
  return [...new Set(names)].sort();
}

const heavy = ['@electric-sql/pglite', 'slonik', '@slonik/driver', 'pg', 'json-schema-to-typescript', 'zod'];

describe('the built CLI', () => {
  it('answers canon --help without loading any package', () => {
    const result = canon(['--help'], { trace: true });
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('Usage: canon <command>');
    expect(result.loaded.some((file) => file.endsWith(join('dist', 'cli', 'main.js')))).toBe(true);
    expect(packagesOf(result.loaded)).toEqual([]);
  });

  it('validates with cached validators: yaml and ajv runtime helpers, no ajv compiler, no database', () => {
    const cwd = join(scratch, 'validate-project');
    mkdirSync(cwd);
    const userCache = join(scratch, 'validate-user-cache');
    const cold = canon(['validate', '--dir', exampleRegistry], { cwd, userCache, trace: true });
    expect(cold.status).toBe(0);
    // The cold run compiles: the tracer sees ajv's compiler, so its absence below means something.
    expect(cold.loaded.some((file) => /ajv[/\\]dist[/\\]core\.js$/.test(file))).toBe(true);
    expect(readdirSync(join(userCache, 'canon', 'validators')).filter((f) => f.endsWith('.mjs'))).toHaveLength(1);

    const warm = canon(['validate', '--dir', exampleRegistry], { cwd, userCache, trace: true });
    expect(warm.status).toBe(0);
    expect(warm.stdout).toBe(cold.stdout);
    expect(warm.stdout).toMatch(/^✓ \d+ assets in \d+ files valid\n$/);
    const ajvFiles = warm.loaded.filter((file) => /[/\\]node_modules[/\\]ajv[/\\].*\.js$/.test(file));
    expect(ajvFiles.length).toBeGreaterThan(0);
    expect(ajvFiles.filter((file) => !/ajv[/\\]dist[/\\]runtime[/\\]/.test(file))).toEqual([]);
    const packages = packagesOf(warm.loaded);
    expect(packages).toContain('yaml');
    expect(packages.filter((name) => heavy.includes(name))).toEqual([]);
  });

  it('prints the same diagnostics, format errors included, with cached validators as without', () => {
    const cwd = join(scratch, 'diagnostics-project');
    mkdirSync(cwd);
    const userCache = join(scratch, 'diagnostics-user-cache');
    const registry = resolve('test/golden/validate/wrong-value/registry');
    const uncached = canon(['validate', '--dir', registry, '--format', 'json'], { cwd, userCache });
    const cached = canon(['validate', '--dir', registry, '--format', 'json'], { cwd, userCache });
    expect(uncached.status).toBe(1);
    expect(JSON.parse(uncached.stdout).diagnostics.map((d: { message: string }) => d.message)).toContain(
      "published_date must be a date written YYYY-MM-DD, not the string '5 March 2024'",
    );
    expect(cached.stdout).toBe(uncached.stdout);
    expect(cached.status).toBe(1);
  });

  it("finds Canon's own schemas from a folder that has none", () => {
    const cwd = join(scratch, 'no-schemas-here');
    mkdirSync(cwd);
    const result = canon(['validate', '--dir', exampleRegistry], { cwd });
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^✓ \d+ assets in \d+ files valid\n$/);
  });

  it('answers --help on every command, and names unknown commands', () => {
    for (const command of ['validate', 'plan', 'apply', 'migrate', 'types']) {
      const result = canon([command, '--help']);
      expect(result.status).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: canon ${command} `));
    }
    const unknown = canon(['toString']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/^canon: unknown command 'toString'\. Commands: validate, plan, apply, /);
  });
});

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.ts';
import { type Database, openDatabase, parseDatabaseSpec } from '../../src/db/open.ts';
import { sql } from '../../src/db/sql.ts';
import { cliPath } from '../support/built-cli.ts';
import { testServerUrl } from '../support/databases.ts';
import { copyRegistry, edit } from '../support/registry.ts';
import { tempDir } from '../support/temp.ts';

// Distinctive passwords: if any output of any command contains one of these fragments, a secret leaked.
const userPassword = `UsrPw${randomBytes(4).toString('hex')}`;
const queryPassword = `QryPw${randomBytes(4).toString('hex')}`;
const keyPassword = `KeyPw${randomBytes(4).toString('hex')}`;
const fragments = [userPassword, queryPassword, keyPassword, 'UsrPw', 'QryPw', 'KeyPw'];

interface Captured {
  label: string;
  text: string;
}
const captured: Captured[] = [];

/** Runs the CLI in-process, keeping everything it writes: stdout, stderr, prompts, and --out files. */
async function run(
  label: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { tty?: boolean; answer?: string } = {},
) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t), isTTY: options.tty ?? false },
    stderr: { write: (t: string) => (stderr += t), isTTY: options.tty ?? false },
    env: { NO_COLOR: '1', ...env },
    ...(options.answer !== undefined
      ? {
          prompt: async (question: string) => {
            stderr += question;
            return options.answer!;
          },
        }
      : {}),
  });
  captured.push({ label: `${label} stdout`, text: stdout }, { label: `${label} stderr`, text: stderr });
  const out = args.indexOf('--out');
  if (out >= 0 && existsSync(args[out + 1]!) && statSync(args[out + 1]!).isFile()) {
    captured.push({ label: `${label} --out file`, text: readFileSync(args[out + 1]!, 'utf8') });
  }
  return { code, stdout, stderr };
}

function expectNoSecretIn(list: Captured[]) {
  expect(list.length).toBeGreaterThan(0);
  for (const { label, text } of list) {
    for (const fragment of fragments) {
      expect(text.includes(fragment), `${label} contains ${fragment}:\n${text}`).toBe(false);
    }
  }
}

describe('no command prints a password from the database URL', () => {
  it('when connecting fails: refused, unparseable, ambiguous, unknown scheme', async () => {
    const start = captured.length;
    const failing = [
      `postgres://postgres:${userPassword}@127.0.0.1:1/test?password=${queryPassword}`,
      `postgres://:${userPassword}@127.0.0.1:1/test`,
      `postgres://u:ab@${userPassword}@127.0.0.1:1/test`,
      `postgres://u:12/${userPassword}@127.0.0.1/test`,
      `postgres://u:ab/${userPassword}@127.0.0.1/test`,
      `postgres://u:${userPassword}@127.0.0.1:99999/test`,
      `mysql://u:${userPassword}@127.0.0.1/test`,
      `u:${userPassword}@127.0.0.1/test`,
    ];
    for (const url of failing) {
      const out = join(tempDir('canon-secrets-legacy-'), 'out');
      const legacy = await run(`import --legacy --source ${url}`, [
        'import',
        '--legacy',
        'seed',
        '--source',
        url,
        '--out',
        out,
      ]);
      expect(legacy.code).toBe(1);
      for (const command of ['plan', 'apply', 'migrate']) {
        const args = [command, '--auto-approve', '--no-embeddings'];
        const viaFlag = await run(`${command} --database ${url}`, [...args, '--database', url]);
        expect(viaFlag.code).toBe(1);
        const viaEnv = await run(`${command} DATABASE_URL=${url}`, args, { DATABASE_URL: url, CANON_DEBUG: '1' });
        expect(viaEnv.code).toBe(1);
      }
    }
    expectNoSecretIn(captured.slice(start));
  });

  it('from a process, with the debug stack of an unexpected error', () => {
    const url = `postgres://postgres:${userPassword}@127.0.0.1:1/test?password=${queryPassword}`;
    const result = spawnSync(process.execPath, [cliPath, 'plan', '--database', url], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', CANON_DEBUG: '1', DATABASE_URL: '' },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('connection refused by postgres://postgres:***@127.0.0.1:1/test?password=***');
    expectNoSecretIn([
      { label: 'stdout', text: result.stdout },
      { label: 'stderr', text: result.stderr },
    ]);
  });

  describe.runIf(testServerUrl)('against a real server (trust auth ignores the passwords)', () => {
    let admin: Database;
    let url: string;
    const name = `canon_secrets_${randomBytes(6).toString('hex')}`;
    beforeAll(async () => {
      admin = await openDatabase(parseDatabaseSpec(testServerUrl));
      await admin.pool.query(sql.unsafe`CREATE DATABASE ${sql.identifier([name])}`);
      const u = new URL(testServerUrl!);
      u.pathname = `/${name}`;
      u.password = userPassword;
      u.search = `?sslmode=disable&password=${queryPassword}&sslpassword=${keyPassword}`;
      url = u.toString();
    });
    afterAll(async () => {
      await admin.pool.query(sql.unsafe`DROP DATABASE IF EXISTS ${sql.identifier([name])} WITH (FORCE)`);
      await admin.close();
    });

    it('validate, migrate, plan and apply in every format, to stdout, stderr and --out files', async () => {
      const start = captured.length;
      const dir = copyRegistry();
      const outDir = tempDir('canon-secrets-');
      const db = ['--database', url, '--dir', dir, '--no-embeddings'];
      const env = { DATABASE_URL: url };
      const tty = { tty: true };
      for (const format of ['text', 'json']) {
        expect((await run(`validate ${format}`, ['validate', '--dir', dir, '--format', format], env)).code).toBe(0);
      }
      for (const format of ['text', 'json', 'sql']) {
        const args = ['migrate', ...db, '--dry-run', '--format', format];
        expect((await run(`migrate --dry-run ${format}`, args, {}, tty)).code).toBe(0);
      }
      for (const format of ['text', 'json', 'markdown', 'sql']) {
        const out = join(outDir, `plan-${format}.json`);
        expect((await run(`plan ${format}`, ['plan', ...db, '--format', format, '--out', out], {}, tty)).code).toBe(0);
      }
      expect((await run('apply declined', ['apply', ...db], {}, { answer: 'no' })).code).toBe(1);
      expect((await run('migrate text', ['migrate', '--dir', dir, '--no-embeddings'], env, tty)).code).toBe(0);
      const applied = await run('apply text', ['apply', '--auto-approve', '--dir', dir, '--no-embeddings'], env, tty);
      expect(applied.code).toBe(0);
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 451');
      const out = join(outDir, 'saved.json');
      expect((await run('plan --out', ['plan', ...db, '--out', out], {}, {})).code).toBe(0);
      expect((await run('apply saved plan json', ['apply', out, ...db, '--format', 'json'])).code).toBe(0);
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 451', 'avg_response_time_ms: 452');
      expect((await run('apply json', ['apply', ...db, '--auto-approve', '--format', 'json'])).code).toBe(0);
      for (const format of ['text', 'json', 'markdown']) {
        expect((await run(`plan no changes ${format}`, ['plan', ...db, '--format', format])).code).toBe(0);
      }
      // Errors after connecting name the database too: a pgvector refusal, an unknown database.
      expect((await run('plan with embeddings', ['plan', '--database', url, '--dir', dir])).code).toBe(1);
      const missing = new URL(url);
      missing.pathname = '/canon_no_such_database';
      const unknown = await run('plan unknown database', ['plan', '--database', missing.toString(), '--dir', dir]);
      expect(unknown.code).toBe(1);
      const list = captured.slice(start);
      expect(list.map((c) => c.text).join('\n')).toContain('?sslmode=disable&password=***&sslpassword=***');
      expectNoSecretIn(list);
    });

    it('drift, import, embed, search and --format github, to stdout, stderr and their files', async () => {
      const start = captured.length;
      const dir = copyRegistry();
      const db = ['--database', url, '--dir', dir, '--no-embeddings'];
      expect((await run('apply', ['apply', ...db, '--auto-approve'])).code).toBe(0);
      for (const format of ['text', 'json']) {
        expect((await run(`drift ${format}`, ['drift', ...db, '--format', format])).code).toBe(0);
      }
      edit(dir, 'platform/tools.yaml', 'avg_response_time_ms: 450', 'avg_response_time_ms: 451');
      expect((await run('plan github', ['plan', ...db, '--format', 'github'])).code).toBe(0);
      const imported = join(tempDir('canon-secrets-import-'), 'out');
      expect((await run('import', ['import', '--database', url, '--out', imported, '--all'])).code).toBe(0);
      const files = readdirSync(imported, { recursive: true, withFileTypes: true }).filter((f) => f.isFile());
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const file = join(f.parentPath, f.name);
        captured.push({ label: `import file ${file}`, text: readFileSync(file, 'utf8') });
      }
      const legacyOut = join(tempDir('canon-secrets-legacy-'), 'out');
      const legacy = await run('import --legacy', ['import', '--legacy', 'seed', '--source', url, '--out', legacyOut]);
      expect(legacy.code).toBe(1);
      const embed = await run('embed', ['embed', '--database', url, '--dir', dir, '--no-embeddings']);
      const search = ['search', 'adverse events', '--database', url, '--dir', dir, '--no-embeddings'];
      const searched = [await run('search', search), await run('search json', [...search, '--format', 'json'])];
      expect(embed.code).toBe(1);
      expect(embed.stderr).toContain('embeddings are off');
      expect(searched.map((r) => r.code)).toEqual([0, 0]);
      const list = captured.slice(start);
      expect(list.some((c) => c.text.includes(`${url.split('@')[1]!.split('/')[0]}`))).toBe(true);
      expectNoSecretIn(list);
    });
  });
});

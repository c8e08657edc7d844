import { describe, expect, it } from 'vitest';
import { withoutDatabaseSecrets } from '../../src/cli/secrets.ts';
import { DatabaseError } from '../../src/db/errors.ts';
import { parseDatabaseSpec } from '../../src/db/open.ts';
import { connectionSecrets, hideSecrets, redactDatabaseUrl } from '../../src/db/redact.ts';

const messageOf = (spec: string) => {
  try {
    parseDatabaseSpec(spec, {});
    return '';
  } catch (e) {
    expect(e).toBeInstanceOf(DatabaseError);
    return (e as Error).message;
  }
};

// Every form a password can take in a connection string, and what may be shown of it.
const cases: [url: string, shown: string][] = [
  ['postgres://u:hunter2secret@h:5432/db', 'postgres://u:***@h:5432/db'],
  ['postgres://:hunter2secret@h/db', 'postgres://:***@h/db'],
  ['postgres://u:hunter@2secret@h/db', 'postgres://u:***@h/db'],
  ['postgres://u:hunter%402secret@h/db', 'postgres://u:***@h/db'],
  ['postgresql://u@h/db?password=hunter2secret', 'postgresql://u@h/db?password=***'],
  [
    'postgres://h/db?sslmode=require&sslpassword=hunter2secret&sslkey=/k/hunter2secret.key',
    'postgres://h/db?sslmode=require&sslpassword=***&sslkey=***',
  ],
  [
    'postgres://h/db?application_name=canon&password=hunter2secret',
    'postgres://h/db?application_name=canon&password=***',
  ],
  // An unescaped & in a query password splits it: the tail is no parameter Canon knows, so it is dropped.
  ['postgres://h/db?password=hunter2&secret', 'postgres://h/db?password=***'],
  ['postgres://h/db?PASSWORD=hunter2secret', 'postgres://h/db'],
  ['postgres:///db?host=/var/run/postgresql', 'postgres:///db?host=/var/run/postgresql'],
  ['postgres://[::1]:5433/db', 'postgres://[::1]:5433/db'],
];

// A password with an unescaped / ? or # ends the authority early: the URL parses, but as another host.
const ambiguous = [
  'postgres://u:12/hunter2secret@h/db',
  'postgres://u:12#hunter2secret@h/db',
  'postgres://u:12?hunter2secret@h/db',
];

const unparseable = [
  'postgres://u:hun/ter2secret@h/db',
  'postgres://u:hunter2secret@h:99999/db',
  'postgres://u:hunter2 secret@h:x/db',
];

describe('database URLs in messages', () => {
  it.each(cases)('%s is shown as %s', (url, shown) => {
    expect(redactDatabaseUrl(url)).toBe(shown);
  });

  it.each(ambiguous)('%s is not shown at all, and refused: it is ambiguous', (url) => {
    const label = redactDatabaseUrl(url);
    expect(label).toBe('postgres://(URL not shown: percent-encode @ / ? # in its password)');
    expect(messageOf(url)).toMatch(/^the database URL is ambiguous .*; it is not shown/);
    expect(messageOf(url)).not.toContain('hunter2');
  });

  it.each(unparseable)('%s is not echoed, and refused: it does not parse', (url) => {
    expect(redactDatabaseUrl(url)).toBe('postgres://(URL not shown: it does not parse)');
    expect(messageOf(url)).toMatch(/^the database URL does not parse; it is not shown/);
    expect(messageOf(url)).not.toContain('hunter2');
  });

  it('does not echo a spec it does not understand', () => {
    expect(messageOf('mysql://u:hunter2secret@h/d')).toBe(
      "unknown database 'mysql://u:***@h/d': use memory:, pglite:<folder> or a postgres:// URL",
    );
    for (const spec of ['u:hunter2secret@h/d', 'hunter2secret', 'pg:hunter2secret', 'mysql://u:1/hunter2secret@h/d']) {
      expect(messageOf(spec)).toBe(
        'unknown database (not shown, as it may hold a password): use memory:, pglite:<folder> or a postgres:// URL',
      );
    }
  });

  it('lists the secrets of a URL, so error text from drivers can be scrubbed of them', () => {
    const secrets = connectionSecrets('postgres://u:hunter%402secret@h/db?sslpassword=keypass%21&password=querypass');
    const expected = ['hunter%402secret', 'hunter@2secret', 'keypass!', 'keypass%21', 'querypass'];
    expect(secrets).toEqual(expect.arrayContaining(expected));
    expect(hideSecrets('auth with hunter@2secret and keypass! failed', secrets)).toBe('auth with *** and *** failed');
    // Too short to hide without garbling ordinary words; such a password is no secret anyway.
    expect(hideSecrets('a db at h', connectionSecrets('postgres://u:a@h/db'))).toBe('a db at h');
    expect(connectionSecrets('postgres://u:12/hunter2secret@h/db')).toContain('u:12/hunter2secret');
    expect(connectionSecrets('postgres://u@h/db?sslmode=require')).toEqual([]);
    expect(connectionSecrets('memory:')).toEqual([]);
  });

  it('scrubs the database secrets of a run from any error the CLI prints, stack included', () => {
    const url = 'postgres://u:hunter2secret@h/db?sslpassword=keypass2secret';
    const runs = [
      [['plan', '--database', url], {}],
      [[`--database=${url}`], {}],
      [['plan'], { DATABASE_URL: url }],
      [['import', '--legacy', 'seed', '--source', url, '--out', 'x'], {}],
      [['import', '--legacy', 'seed', `--source=${url}`, '--out', 'x'], {}],
    ] as const;
    for (const [args, env] of runs) {
      const e = withoutDatabaseSecrets(new Error(`driver said: ${url} and keypass2secret`), args, env) as Error;
      expect(e.message).toBe('driver said: postgres://u:***@h/db?sslpassword=*** and ***');
      expect(e.stack).not.toMatch(/hunter2|keypass2/);
    }
  });
});

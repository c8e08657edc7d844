/**
 * Database URLs as they may appear in output: messages, plans (text, JSON, markdown, saved files).
 * A URL is read with the WHATWG URL parser, as slonik and pg read it, never with a regular
 * expression: a password may hold `@`, `:` or percent-escapes, and sit in the user info or in the
 * query (`?password=`, `?sslpassword=`). What is shown is rebuilt from the parsed parts that are not
 * secret; anything Canon cannot read unambiguously is not shown at all.
 */

/** libpq connection parameters whose value may be shown. */
const shownParameters = new Set([
  'host',
  'hostaddr',
  'port',
  'dbname',
  'user',
  'connect_timeout',
  'client_encoding',
  'application_name',
  'fallback_application_name',
  'keepalives',
  'keepalives_idle',
  'keepalives_interval',
  'keepalives_count',
  'tcp_user_timeout',
  'replication',
  'gssencmode',
  'sslmode',
  'requiressl',
  'sslnegotiation',
  'sslcompression',
  'sslcertmode',
  'sslsni',
  'ssl_min_protocol_version',
  'ssl_max_protocol_version',
  'target_session_attrs',
  'load_balance_hosts',
  'channel_binding',
  'require_auth',
  'schema',
]);

/** libpq connection parameters that are (or point at) secrets: named, with their value hidden. */
const hiddenParameters = new Set([
  'password',
  'passfile',
  'sslpassword',
  'sslkey',
  'sslcert',
  'sslrootcert',
  'sslcrl',
  'sslcrldir',
  'sslkeylogfile',
  'options',
  'service',
  'krbsrvname',
  'gsslib',
  'gssdelegation',
  'requirepeer',
]);

const hidden = '***';
export const unparseableLabel = 'postgres://(URL not shown: it does not parse)';
const ambiguousLabel = 'postgres://(URL not shown: percent-encode @ / ? # in its password)';

function parse(url: string): URL | undefined {
  try {
    return new URL(url);
  } catch {
    return undefined;
  }
}

/** The query's `name=value` pieces as written (so a value is shown exactly as the user typed it). */
function queryPieces(search: string): { name: string; raw: string; rawValue: string }[] {
  if (search.length <= 1) return [];
  return search
    .slice(1)
    .split('&')
    .filter((p) => p !== '')
    .map((raw) => {
      const equals = raw.indexOf('=');
      const name = decodeQuery(equals < 0 ? raw : raw.slice(0, equals));
      return { name, raw, rawValue: equals < 0 ? '' : raw.slice(equals + 1) };
    });
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Query values as URLSearchParams (and so slonik) reads them: `+` is a space. */
const decodeQuery = (text: string) => decode(text.replace(/\+/g, ' '));

/**
 * A password holding an unescaped `/`, `?` or `#` ends the URL's authority early: the URL still
 * parses, but the password's head reads as the port and its tail as the path, query or fragment.
 * Such a URL has an `@` after the authority (or a fragment, which a database URL never needs).
 */
function isAmbiguous(url: URL): boolean {
  return url.hash !== '' || url.pathname.includes('@') || queryPieces(url.search).some((p) => p.name.includes('@'));
}

/** The URL without secrets, for messages and plans: `postgres://user:***@host:5432/db?sslmode=require&password=***`. */
export function redactDatabaseUrl(spec: string): string {
  const url = parse(spec);
  if (!url) return unparseableLabel;
  if (isAmbiguous(url)) return ambiguousLabel;
  const password = url.password !== '' ? `:${hidden}` : '';
  const user = url.username !== '' || password !== '' ? `${url.username}${password}@` : '';
  const query = queryPieces(url.search).flatMap((p) =>
    shownParameters.has(p.name) ? [p.raw] : hiddenParameters.has(p.name) ? [`${p.name}=${hidden}`] : [],
  );
  // `postgres://` URLs have an authority even when the host is empty (a Unix socket in ?host=).
  const authority = url.href.startsWith(`${url.protocol}//`) ? `//${user}${url.host}` : '';
  return `${url.protocol}${authority}${url.pathname}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/**
 * Why a postgres:// URL cannot be used as it is, without quoting it: it does not parse, or it parses
 * other than meant (a password's unescaped character cut it short). Undefined when it is fine.
 */
export function unusableUrlReason(spec: string): string | undefined {
  const url = parse(spec);
  if (!url) return 'the database URL does not parse';
  if (isAmbiguous(url)) return 'the database URL is ambiguous (an @, / ? or # after the host)';
  return undefined;
}

/** The spec as shown when it names no backend Canon knows: only a URL whose parts can be told apart. */
export function redactUnknownSpec(spec: string): string | undefined {
  const url = parse(spec);
  if (!url || isAmbiguous(url) || !url.href.startsWith(`${url.protocol}//`)) return undefined;
  return redactDatabaseUrl(spec);
}

/** Secrets shorter than this are not scrubbed from text: hiding every "a" would garble the message. */
const shortestScrubbed = 4;

/**
 * Every string of a URL that may be secret, in the forms a driver's error text could echo: the
 * password as written and decoded, and hidden parameters' values. For an ambiguous or unparseable
 * URL, everything after the scheme, and everything that could belong to the user info.
 */
export function connectionSecrets(spec: string): string[] {
  const secrets = new Set<string>();
  const url = parse(spec);
  if (url) {
    secrets.add(url.password).add(decode(url.password));
    for (const p of queryPieces(url.search)) {
      if (shownParameters.has(p.name)) continue;
      secrets.add(p.rawValue).add(decode(p.rawValue)).add(decodeQuery(p.rawValue));
    }
  }
  if (!url || isAmbiguous(url)) {
    const start = spec.indexOf('://') >= 0 ? spec.indexOf('://') + 3 : 0;
    const at = spec.lastIndexOf('@');
    if (at > start) secrets.add(spec.slice(start, at));
    secrets.add(spec.slice(start));
  }
  return [...secrets].filter((s) => s.length >= shortestScrubbed).sort((a, b) => b.length - a.length);
}

/** Text with every secret replaced by ***: for error messages that came from drivers, which may quote a URL. */
export function hideSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join(hidden);
  return out;
}

import { BackendTerminatedError } from '@slonik/errors';

import { DatabaseError } from './database-error.ts';

export { DatabaseError };

/**
 * The connection to the server is gone or went silent; any open transaction is lost with it. A
 * BackendTerminatedError, so slonik does not try to roll back over the dead connection.
 */
export class ConnectionLostError extends BackendTerminatedError {
  constructor(readonly reason: string) {
    super(new Error(reason));
    (this as { message: string }).message = reason;
  }
}

interface Coded {
  code?: string;
  message?: string;
  cause?: unknown;
  errno?: number;
  hostname?: string;
}

/** Walks an error's cause chain (slonik wraps pg's error, which wraps the socket's). */
function chain(error: unknown): Coded[] {
  const out: Coded[] = [];
  let current: unknown = error;
  for (let i = 0; i < 6 && current && typeof current === 'object'; i++) {
    out.push(current as Coded);
    const next = (current as Coded).cause ?? (current as { originalError?: unknown }).originalError;
    if (next === current) break;
    current = next;
  }
  return out;
}

/** One clear line for a failed connection: refused, unknown host, authentication, unknown database, TLS. */
export function describeConnectionError(error: unknown, label: string): DatabaseError {
  const links = chain(error);
  const codes = new Set(links.map((e) => e.code).filter(Boolean));
  const text = links.map((e) => e.message ?? '').join(' | ');
  const says = (pattern: RegExp) => pattern.test(text);
  let message: string;
  if (codes.has('ECONNREFUSED')) message = `connection refused by ${label}: is PostgreSQL running and listening there?`;
  else if (codes.has('ENOTFOUND') || codes.has('EAI_AGAIN'))
    message = `cannot resolve the host of ${label}: check the host name`;
  else if (codes.has('ETIMEDOUT') || says(/timeout/i))
    message = `timed out connecting to ${label}: check the host, port and firewall`;
  else if (codes.has('28P01') || says(/password authentication failed/i))
    message = `authentication failed for ${label}: check the user name and password`;
  else if (codes.has('28000'))
    message =
      `the server refused the login to ${label}: ` +
      `${links.find((e) => e.code === '28000')?.message ?? 'check pg_hba.conf and the user'}`;
  else if (codes.has('3D000'))
    message = `database does not exist at ${label}: create it (createdb) or fix the database name`;
  else if (says(/does not support SSL|SSL|TLS|certificate/i))
    message =
      `TLS failed connecting to ${label}: ` +
      `${links.find((e) => /SSL|TLS|certificate/i.test(e.message ?? ''))?.message}; adjust sslmode in the URL`;
  else message = `cannot connect to ${label}: ${links.at(-1)?.message ?? String(error)}`;
  return new DatabaseError(message);
}

/** PostgreSQL's own words (slonik wraps them in generic classes), with the constraint and detail it names. */
export function databaseMessage(e: unknown): string {
  const inner = (e as { cause?: unknown }).cause as
    | { message?: string; constraint?: string; detail?: string; table?: string }
    | undefined;
  const source = inner?.message
    ? inner
    : (e as { message?: string; constraint?: string; detail?: string; table?: string });
  const parts = [source.message ?? String(e)];
  if (source.constraint && !parts[0]!.includes(source.constraint)) parts.push(`constraint ${source.constraint}`);
  if (source.detail) parts.push(source.detail);
  return parts.join('; ');
}

/** Limits a session runs under, for messages that say which one was hit. */
export interface SessionLimits {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
}

/** Milliseconds as a person reads them: 1s, 1.5s, 500ms, 2m. */
export const formatDurationMs = (ms: number) =>
  ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`;

/** The SQLSTATE (or socket error code) anywhere in an error's cause chain. */
export const errorCode = (e: unknown): string | undefined =>
  chain(e)
    .map((l) => l.code)
    .find((c) => typeof c === 'string');

/** The connection is gone (dropped by Canon after a silent wait, reset, or ended by the server). */
export const connectionLostIn = (e: unknown) =>
  chain(e).find((l): l is ConnectionLostError => l instanceof ConnectionLostError);

/**
 * A query that hit a session limit or lost its connection, as one line that says what happened and
 * what it left (`consequence`, e.g. "nothing was changed"); null for other errors.
 */
export function describeQueryError(
  e: unknown,
  label: string,
  limits: SessionLimits,
  consequence: string,
  lockHolder?: string,
): DatabaseError | null {
  const lost = connectionLostIn(e);
  if (lost) return new DatabaseError(`lost the connection to ${label}: ${lost.reason}; ${consequence}`, { cause: e });
  const code = errorCode(e);
  if (code === '55P03') {
    const who = lockHolder ?? 'another session holds a lock on a table Canon reads or writes';
    const waited = formatDurationMs(limits.lockTimeoutMs);
    return new DatabaseError(`gave up waiting for a lock after ${waited} (--lock-timeout): ${who}; ${consequence}`, {
      cause: e,
    });
  }
  if (code === '57014' && /statement timeout/i.test(databaseMessage(e))) {
    const limit = formatDurationMs(limits.statementTimeoutMs);
    const message = `a statement ran longer than ${limit} (--statement-timeout) and was cancelled; ${consequence}`;
    return new DatabaseError(message, { cause: e });
  }
  return null;
}

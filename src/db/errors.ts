/** A database problem the user can act on: printed as one line, never with a stack trace. */
export class DatabaseError extends Error {}

interface Coded { code?: string; message?: string; cause?: unknown; errno?: number; hostname?: string }

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
  else if (codes.has('ENOTFOUND') || codes.has('EAI_AGAIN')) message = `cannot resolve the host of ${label}: check the host name`;
  else if (codes.has('ETIMEDOUT') || says(/timeout/i)) message = `timed out connecting to ${label}: check the host, port and firewall`;
  else if (codes.has('28P01') || says(/password authentication failed/i)) message = `authentication failed for ${label}: check the user name and password`;
  else if (codes.has('28000')) message = `the server refused the login to ${label}: ${links.find((e) => e.code === '28000')?.message ?? 'check pg_hba.conf and the user'}`;
  else if (codes.has('3D000')) message = `database does not exist at ${label}: create it (createdb) or fix the database name`;
  else if (says(/does not support SSL|SSL|TLS|certificate/i)) message = `TLS failed connecting to ${label}: ${links.find((e) => /SSL|TLS|certificate/i.test(e.message ?? ''))?.message}; adjust sslmode in the URL`;
  else message = `cannot connect to ${label}: ${links.at(-1)?.message ?? String(error)}`;
  return new DatabaseError(message);
}

/** PostgreSQL's own words (slonik wraps them in generic classes), with the constraint and detail it names. */
export function databaseMessage(e: unknown): string {
  const inner = (e as { cause?: unknown }).cause as { message?: string; constraint?: string; detail?: string; table?: string } | undefined;
  const source = inner?.message ? inner : (e as { message?: string; constraint?: string; detail?: string; table?: string });
  const parts = [source.message ?? String(e)];
  if (source.constraint && !parts[0]!.includes(source.constraint)) parts.push(`constraint ${source.constraint}`);
  if (source.detail) parts.push(source.detail);
  return parts.join('; ');
}


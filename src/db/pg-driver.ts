import { createDriverFactory, type DriverFactory, type DriverTypeParser } from '@slonik/driver';
import pg from 'pg';
import { driverResult, streamOf } from './driver-result.ts';
import { ConnectionLostError, DatabaseError } from './errors.ts';
import { searchPathSql } from './search-path.ts';

/** How Canon talks to a PostgreSQL server, beyond what the URL says. */
export interface ServerSession {
  statementTimeoutMs: number;
  lockTimeoutMs: number;
  /** The server ends a session idle inside a transaction this long (a client that vanished mid-apply). */
  idleInTransactionTimeoutMs: number;
  /** The client gives up on a query without an answer after this long, and drops the connection. */
  queryTimeoutMs: number;
  connectTimeoutMs: number;
  /** TCP keepalive, both ways: idle seconds before the first probe (then every 10 s, 3 times). */
  keepAliveIdleMs: number;
  /** The schema Canon's objects live in, when configured: each connection's search_path is set to it. */
  schema?: string;
}

/** Connection-level failures, in pg's words: the socket or the session is gone, not the statement. */
const lostCodes = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH', // the socket
  '57P01',
  '57P02',
  '57P03',
  '25P03',
  '57P05', // the server ended the session (shutdown, idle timeouts)
]);

function asLost(error: Error & { code?: string }): Error {
  if (error instanceof ConnectionLostError) return error;
  if (/^Connection terminated|not queryable/i.test(error.message) || (error.code && lostCodes.has(error.code))) {
    return new ConnectionLostError(`the connection was lost (${error.message})`);
  }
  return error;
}

/** TLS per sslmode: slonik's values (disable, no-verify, require), and verify-ca/verify-full as require. */
const tlsBySslmode: Record<string, pg.ClientConfig['ssl']> = {
  disable: false,
  'no-verify': { rejectUnauthorized: false },
  require: true,
  'verify-ca': true,
  'verify-full': true,
};

/** The URL's parts as slonik's own driver reads them (same parameters). */
function clientConfig(url: string): pg.ClientConfig {
  const u = new URL(url);
  const param = (name: string) => u.searchParams.get(name) ?? undefined;
  const sslmode = param('sslmode');
  if (sslmode !== undefined && !Object.hasOwn(tlsBySslmode, sslmode)) {
    throw new DatabaseError(`unsupported sslmode '${sslmode}': use one of ${Object.keys(tlsBySslmode).join(', ')}`);
  }
  const ssl = sslmode === undefined ? false : tlsBySslmode[sslmode];
  return {
    host: u.hostname ? decodeURIComponent(u.hostname) : param('host'),
    ...(u.port ? { port: Number(u.port) } : {}),
    ...(u.pathname && u.pathname !== '/' ? { database: decodeURIComponent(u.pathname.split('/')[1]!) } : {}),
    ...(u.username ? { user: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(param('application_name') ? { application_name: param('application_name') } : {}),
    ...(param('options') ? { options: param('options') } : {}),
    ssl,
  };
}

/**
 * A slonik driver for a PostgreSQL server that a hung network cannot hang: TCP keepalives on both
 * ends, a client-side limit on every query (after which the socket is destroyed and the query fails
 * with ConnectionLostError), session limits sent at connect, and an end that never waits on a dead peer.
 * slonik's own pg driver exposes none of these.
 */
export function createServerDriverFactory(url: string, session: ServerSession): DriverFactory {
  const keepAliveSeconds = Math.max(1, Math.round(session.keepAliveIdleMs / 1000));
  const base = clientConfig(url);
  const serverKeepAlive =
    `-c tcp_keepalives_idle=${keepAliveSeconds} -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3` +
    // Keepalives are not sent while the server has unacknowledged data in flight (a result it could not
    // deliver to a hung peer): the user timeout bounds that wait too, so the session and its locks go.
    ` -c tcp_user_timeout=${keepAliveSeconds * 1000}`;
  const config: pg.ClientConfig = {
    ...base,
    options: [base.options, serverKeepAlive].filter(Boolean).join(' '),
    keepAlive: true,
    keepAliveInitialDelayMillis: session.keepAliveIdleMs,
    connectionTimeoutMillis: session.connectTimeoutMs,
    statement_timeout: session.statementTimeoutMs,
    lock_timeout: session.lockTimeoutMs,
    idle_in_transaction_session_timeout: session.idleInTransactionTimeoutMs,
  };
  return createDriverFactory(async ({ driverConfiguration }) => {
    const getTypeParser = await typeOverrides(config, driverConfiguration.typeParsers, session.queryTimeoutMs);
    return {
      createPoolClient: async ({ clientEventEmitter }) => {
        const client = new pg.Client({ ...config, types: { getTypeParser } });
        let lost: ConnectionLostError | null = null;
        const drop = (reason: string) => {
          lost ??= new ConnectionLostError(reason);
          client.connection.stream.destroy();
          return lost;
        };
        // After a deliberate drop the query itself reports it; pg's own "terminated" event would race it.
        client.on('error', (error) => {
          if (!lost) clientEventEmitter.emit('error', asLost(error));
        });
        client.on('notice', (notice) => {
          if (notice.message) clientEventEmitter.emit('notice', { message: notice.message });
        });
        const run = async (text: string, values: readonly unknown[] | undefined) => {
          if (lost) throw lost;
          let timer: NodeJS.Timeout | undefined;
          const silence = new Promise<never>((_, reject) => {
            const silent = `no answer from the server for ${session.queryTimeoutMs / 1000} s`;
            timer = setTimeout(() => reject(drop(silent)), session.queryTimeoutMs);
          });
          try {
            return await Promise.race([client.query({ text, values: values as unknown[] }), silence]);
          } catch (error) {
            throw lost ?? asLost(error as Error);
          } finally {
            clearTimeout(timer);
          }
        };
        return {
          connect: async () => {
            try {
              await client.connect();
            } catch (error) {
              throw asLost(error as Error);
            }
            if (session.schema) await run(searchPathSql, [session.schema]);
          },
          end: () => endPromptly(client),
          query: async (text, values) => driverResult(await run(text, values)),
          stream: (text, values) => streamOf(run(text, values)),
        };
      },
    };
  });
}

/** A graceful end waits for the server to close its side; on a dead network it never does, so cut it after 1 s. */
async function endPromptly(client: pg.Client): Promise<void> {
  const grace = setTimeout(() => client.connection.stream.destroy(), 1_000);
  try {
    await client.end();
  } catch {
    // Ending a broken connection: it is gone either way.
  } finally {
    clearTimeout(grace);
  }
}

/** Slonik's type parsers (int8 → number, timestamps …) by oid, exactly as the PGlite driver installs them. */
async function typeOverrides(config: pg.ClientConfig, parsers: readonly DriverTypeParser[], queryTimeoutMs: number) {
  const client = new pg.Client(config);
  await client.connect().catch((error: Error) => {
    throw asLost(error);
  });
  // Silent past the limit: destroying the socket fails the query, and end() returns at once.
  const silence = setTimeout(() => client.connection.stream.destroy(), queryTimeoutMs);
  let rows: { oid: number; typname: string }[];
  try {
    const names = parsers.map((p) => p.name);
    ({ rows } = await client
      .query('SELECT oid, typname FROM pg_type WHERE typname = ANY($1::text[])', [names])
      .catch((error: Error) => {
        throw asLost(error);
      }));
  } finally {
    clearTimeout(silence);
    await endPromptly(client);
  }
  const byOid = new Map<number, (value: string) => unknown>();
  for (const parser of parsers) {
    const type = rows.find((r) => r.typname === parser.name);
    if (type) byOid.set(Number(type.oid), (value) => parser.parse(value));
  }
  return (oid: number, format?: string) => byOid.get(oid) ?? pg.types.getTypeParser(oid, format as 'text');
}

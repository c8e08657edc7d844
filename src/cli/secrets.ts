import { connectionSecrets, hideSecrets } from '../db/redact.ts';

/** Options whose value is a database: the target, and the legacy database `canon import --legacy` reads. */
const databaseOptions = ['--database', '--source'];

/**
 * The secrets of the database URLs this run was given (--database, --source, DATABASE_URL), so that
 * no error message prints them, whichever library wrote it. Normal output never holds them: it shows
 * a database only through its redacted label.
 */
export function databaseSecretsOf(args: readonly string[], env: NodeJS.ProcessEnv): string[] {
  const specs: string[] = [];
  if (env.DATABASE_URL) specs.push(env.DATABASE_URL);
  args.forEach((arg, i) => {
    for (const option of databaseOptions) {
      if (arg === option && args[i + 1] !== undefined) specs.push(args[i + 1]!);
      else if (arg.startsWith(`${option}=`)) specs.push(arg.slice(option.length + 1));
    }
  });
  return [...new Set(specs.flatMap(connectionSecrets))].sort((a, b) => b.length - a.length);
}

/** The error with its message and stack scrubbed of the run's database secrets (a driver may quote a URL). */
export function withoutDatabaseSecrets(e: unknown, args: readonly string[], env: NodeJS.ProcessEnv): unknown {
  const secrets = databaseSecretsOf(args, env);
  if (!(e instanceof Error) || secrets.length === 0) return e;
  e.message = hideSecrets(e.message, secrets);
  if (e.stack) e.stack = hideSecrets(e.stack, secrets);
  return e;
}

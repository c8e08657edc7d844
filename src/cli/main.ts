import { ApplyFailedError, ApplyLockTimeoutError, ApplyRefusedError } from '../apply/errors.ts';
import { DatabaseError } from '../db/database-error.ts';
import { DatabaseLockedError } from '../db/lock.ts';
import { SchemaAnnotationError } from '../kinds/catalog.ts';
import { DestructiveChangeError } from '../migrate/errors.ts';
import type { Command } from './commands/command.ts';
import { type CliIO, exitCodes, UsageError } from './io.ts';
import { withoutDatabaseSecrets } from './secrets.ts';

interface CommandEntry {
  /** One line for `canon --help`. */
  summary: string;
  /** Loaded only when the command runs, so each command pays for its own dependencies alone. */
  load(): Promise<Command>;
}

const commands: Record<string, CommandEntry> = {
  validate: {
    summary: 'Check the registry: YAML, schemas and references',
    load: async () => (await import('./commands/validate.ts')).validateCommand,
  },
  plan: {
    summary: 'Show what apply would change: schema, rows and relations',
    load: async () => (await import('./commands/plan.ts')).planCommand,
  },
  apply: {
    summary: 'Make the database match the registry, in one transaction',
    load: async () => (await import('./commands/apply.ts')).applyCommand,
  },
  migrate: {
    summary: "Bring the database's tables, indexes and constraints to the schema compiled from schemas/",
    load: async () => (await import('./commands/migrate.ts')).migrateCommand,
  },
  types: {
    summary: 'Compile schemas/ into TypeScript types (generated/registry.ts)',
    load: async () => (await import('./commands/types.ts')).typesCommand,
  },
  import: {
    summary: 'Write YAML for rows in the database that Canon does not manage yet',
    load: async () => (await import('./commands/import.ts')).importCommand,
  },
  drift: {
    summary: 'List rows changed in the database outside Canon since the last apply; --write adopts them',
    load: async () => (await import('./commands/drift.ts')).driftCommand,
  },
  embed: {
    summary: 'Embed queued knowledge chunks (the worker); --status shows the queue',
    load: async () => (await import('./commands/embed.ts')).embedCommand,
  },
  search: {
    summary: 'Search knowledge chunks and assets: full-text and vector, fused by rank',
    load: async () => (await import('./commands/search.ts')).searchCommand,
  },
  dev: {
    summary: 'Watch the registry and re-plan on every save, in a live terminal view',
    load: async () => (await import('./commands/dev.ts')).devCommand,
  },
};

const overview = () => `Usage: canon <command> [options]

Canon compiles a registry of AI assets written as YAML into PostgreSQL.

Commands:
${Object.entries(commands)
  .map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`)
  .join('\n')}

Run 'canon <command> --help' for a command's options.
`;

/** Argument dispatch only: every command calls into the pipeline, never the other way round. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name === undefined ? exitCodes.error : exitCodes.ok;
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    io.stderr.write(
      `canon: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}. See 'canon --help'.\n`,
    );
    return exitCodes.error;
  }
  try {
    const command = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.usage + '\n');
      return exitCodes.ok;
    }
    return await command.run(rest, io);
  } catch (caught) {
    const e = withoutDatabaseSecrets(caught, rest, io.env);
    if (e instanceof UsageError) {
      io.stderr.write(e.message + '\n');
      return exitCodes.error;
    }
    if (e instanceof SchemaAnnotationError) {
      io.stderr.write(`canon: invalid schema: ${e.message}\n`);
      return exitCodes.error;
    }
    if (
      e instanceof DatabaseError ||
      e instanceof DatabaseLockedError ||
      e instanceof DestructiveChangeError ||
      e instanceof ApplyRefusedError ||
      e instanceof ApplyFailedError ||
      e instanceof ApplyLockTimeoutError
    ) {
      io.stderr.write(`canon ${name}: ${e.message}\n`);
      return exitCodes.error;
    }
    // A bug, not a user mistake: say so, and keep the stack for the report.
    io.stderr.write(`canon ${name}: internal error: ${(e as Error).message}\n`);
    if (io.env.CANON_DEBUG) io.stderr.write(`${(e as Error).stack}\n`);
    else io.stderr.write('Run again with CANON_DEBUG=1 for details, and report it.\n');
    return exitCodes.error;
  }
}

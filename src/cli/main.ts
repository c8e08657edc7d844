import { DatabaseError } from '../db/errors.ts';
import { DatabaseLockedError } from '../db/lock.ts';
import { SchemaAnnotationError } from '../kinds/catalog.ts';
import { DestructiveChangeError } from '../migrate/migrate.ts';
import { ApplyFailedError, ApplyRefusedError } from '../apply/apply.ts';
import { ApplyLockTimeoutError } from '../apply/lock.ts';
import { applyCommand } from './commands/apply.ts';
import { devCommand } from './commands/dev.ts';
import { migrateCommand } from './commands/migrate.ts';
import { planCommand } from './commands/plan.ts';
import type { Command } from './commands/command.ts';
import { typesCommand } from './commands/types.ts';
import { validateCommand } from './commands/validate.ts';
import { exitCodes, UsageError, type CliIO } from './io.ts';

const commands: Record<string, Command> = {
  validate: validateCommand,
  plan: planCommand,
  apply: applyCommand,
  migrate: migrateCommand,
  types: typesCommand,
  dev: devCommand,
};

const overview = () => `Usage: canon <command> [options]

Canon compiles a registry of AI assets written as YAML into PostgreSQL.

Commands:
${Object.entries(commands).map(([name, c]) => `  ${name.padEnd(12)}${c.summary}`).join('\n')}

Run 'canon <command> --help' for a command's options.
`;

/** Argument dispatch only: every command calls into the pipeline, never the other way round. */
export async function main(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(overview());
    return name === undefined ? exitCodes.error : exitCodes.ok;
  }
  const command = commands[name];
  if (!command) {
    io.stderr.write(`canon: unknown command '${name}'. Commands: ${Object.keys(commands).join(', ')}. See 'canon --help'.\n`);
    return exitCodes.error;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(command.usage + '\n');
    return exitCodes.ok;
  }
  try {
    return await command.run(rest, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(e.message + '\n');
      return exitCodes.error;
    }
    if (e instanceof SchemaAnnotationError) {
      io.stderr.write(`canon: invalid schema: ${e.message}\n`);
      return exitCodes.error;
    }
    if (e instanceof DatabaseError || e instanceof DatabaseLockedError || e instanceof DestructiveChangeError || e instanceof ApplyRefusedError || e instanceof ApplyFailedError || e instanceof ApplyLockTimeoutError) {
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

import { SchemaAnnotationError } from '../kinds/catalog.ts';
import type { Command } from './commands/command.ts';
import { typesCommand } from './commands/types.ts';
import { validateCommand } from './commands/validate.ts';
import { exitCodes, UsageError, type CliIO } from './io.ts';

const commands: Record<string, Command> = {
  validate: validateCommand,
  types: typesCommand,
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
    throw e;
  }
}

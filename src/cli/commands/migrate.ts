import { describeSchemaChange } from '../../migrate/changes.ts';
import { applyMigration, planMigration, statementText } from '../../migrate/migrate.ts';
import { styleFor } from '../../render/style.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { databaseHelp, databaseOptions, openFromOptions, schemaOptionsFor } from '../database.ts';
import { type CliIO, exitCodes } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

export const migrateCommand: Command = {
  usage: `Usage: canon migrate [--database <db>] [--dry-run] [--allow-destructive] [--format text|json|sql]

Introspects the live database and computes the DDL that brings it to the schema compiled from
schemas/: missing tables, columns, indexes, constraints, extensions, and the row-level-security
policies, functions, application role and privileges of the tenancy model. Additive changes are
applied in one transaction. Destructive ones (dropping tables or columns, narrowing a type, NOT NULL
on a column holding NULLs) are listed and refused unless --allow-destructive is given.

Options:
${databaseHelp}
  --dry-run             show what would change, change nothing
  --allow-destructive   apply destructive changes too
  --format text|json|sql  output (default: text); sql prints exactly the statements
  -h, --help            show this help

Exit status: 0 on success (or nothing to do), 1 on errors or refused destructive changes.`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('migrate', args, {
      ...databaseOptions,
      'dry-run': { type: 'boolean', default: false },
      'allow-destructive': { type: 'boolean', default: false },
      format: { type: 'string' },
    });
    const format = oneOf('migrate', 'format', values.format, ['text', 'json', 'sql'] as const, 'text');
    const catalog = catalogFor(values.schemas);
    const schemaOptions = schemaOptionsFor(values, io);
    const style = styleFor(io.stdout, io.env);
    const progress = (text: string) => io.stderr.isTTY && format === 'text' && io.stderr.write(style.dim(text) + '\n');
    progress('Opening the database…');
    const db = await openFromOptions(values, io, 'canon migrate', schemaOptions);
    try {
      const started = performance.now();
      const plan = await planMigration(db, catalog, schemaOptions);
      const refused = plan.destructive.length > 0 && !values['allow-destructive'];
      const apply = !values['dry-run'] && !refused && plan.changes.length > 0;
      if (apply) {
        progress(`Applying ${plan.statements.length} statements…`);
        await applyMigration(db, plan, { allowDestructive: values['allow-destructive']! });
      }
      const ms = Math.round(performance.now() - started);
      if (format === 'sql') io.stdout.write(statementText(plan));
      else if (format === 'json') {
        io.stdout.write(
          JSON.stringify(
            {
              format_version: '1',
              database: db.label,
              applied: apply,
              changes: plan.changes.map((c) => ({
                action: c.kind,
                description: describeSchemaChange(c),
                destructive: c.destructive,
                ...('reason' in c && c.reason ? { reason: c.reason } : {}),
              })),
            },
            null,
            2,
          ) + '\n',
        );
      } else {
        if (plan.changes.length === 0)
          io.stdout.write(style.green(`No schema changes: ${db.label} is up to date.`) + '\n');
        else {
          io.stdout.write(`Schema changes (${db.label}):\n`);
          for (const c of plan.changes) {
            const line = describeSchemaChange(c);
            const reason = 'reason' in c && c.reason ? ` (${c.reason})` : '';
            io.stdout.write(
              c.destructive ? style.red(`  ! ${line}${reason}`) + '\n' : style.green(`  + ${line}`) + '\n',
            );
          }
          if (apply)
            io.stdout.write(
              `Applied ${plan.changes.length} changes (${plan.statements.length} statements) in ${ms} ms.\n`,
            );
          else if (values['dry-run']) io.stdout.write('Dry run: nothing was changed.\n');
        }
      }
      if (refused) {
        io.stderr.write(
          style.red(
            `canon migrate: refusing ${plan.destructive.length} destructive change(s); nothing was changed. ` +
              'Review them and pass --allow-destructive to apply.',
          ) + '\n',
        );
        return exitCodes.error;
      }
      return exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

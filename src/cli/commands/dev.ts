import { runDev } from '../../tui/run.ts';
import { parseCommandArgs } from '../args.ts';
import { checkedSchemaName, databaseHelp, databaseOptions, parseCacheDir } from '../database.ts';
import { parseDuration } from '../duration.ts';
import type { CliIO } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

export const devCommand: Command = {
  usage: `Usage: canon dev [--dir registry] [--database <db>]

Watches the registry folder (and its canon.yaml). Every save re-checks and re-plans at once against
the database as last read: problems with their file:line:col, then the plan as kinds → assets →
field changes, with canon plan's words. On a terminal it is a live view:

  ↑/↓ j/k      move                      enter/space  expand or collapse
  /            filter by kind, id, file  e            jump to the next error
  r            re-read the database      a            apply the plan (asks to confirm; deletes twice)
  ?            help                      q, Ctrl-C    quit

Without a terminal (a pipe, a log, CI=true) it prints one block per change instead; stop it with
Ctrl-C or SIGTERM.

Options:
${databaseHelp}
  --hard-delete         apply deletes rows of removed assets (default: soft delete)
  --lock-timeout <d>    how long an apply waits for another apply's lock (default: 30s)
  --statement-timeout <d>  limit for each statement (default: 60s)
  -h, --help            show this help`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('dev', args, {
      ...databaseOptions,
      'hard-delete': { type: 'boolean', default: false },
      'statement-timeout': { type: 'string' },
      'lock-timeout': { type: 'string' },
    });
    const options = {
      dir: values.dir!,
      database: values.database,
      catalog: catalogFor(values.schemas),
      noEmbeddings: values['no-embeddings']!,
      ...(values.schema ? { pgSchema: checkedSchemaName(values.schema) } : {}),
      deleteMode: values['hard-delete'] ? ('hard' as const) : ('soft' as const),
      cacheDir: parseCacheDir,
      statementTimeoutMs: parseDuration('dev', 'statement-timeout', values['statement-timeout'], 60_000),
      lockTimeoutMs: parseDuration('dev', 'lock-timeout', values['lock-timeout'], 30_000),
    };
    return runDev(options, io);
  },
};

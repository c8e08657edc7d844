import { hasChanges } from '../../plan/model.ts';
import { planRegistry } from '../../pipeline/plan.ts';
import { formatDiagnostic, renderBlockingDiagnostics } from '../../render/diagnostics.ts';
import { renderPlanJson } from '../../render/plan/json.ts';
import { renderPlanMarkdown } from '../../render/plan/markdown.ts';
import { renderPlanSql } from '../../render/plan/sql.ts';
import { renderPlanText } from '../../render/plan/text.ts';
import { styleFor } from '../../render/style.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { databaseHelp, databaseOptions, openFromOptions, parseCacheDir, schemaOptionsFor } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { exitCodes, type CliIO } from '../io.ts';
import { writeOutputFile } from '../output-file.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';
import { validatorCacheDir } from '../cache-dirs.ts';
import { cachedValidators } from '../../validate/compiled-cache.ts';

export const planOptions = {
  ...databaseOptions,
  'hard-delete': { type: 'boolean', default: false },
  'statement-timeout': { type: 'string' },
  'lock-timeout': { type: 'string' },
} as const;

export const planOptionsHelp = `${databaseHelp}
  --hard-delete         delete rows of removed assets (default: soft delete, setting deleted_at)
  --lock-timeout <d>    longest wait for any lock, another apply's included (default: 30s)
  --statement-timeout <d>  limit for each statement Canon runs, reads included (default: 60s); on a
                        server Canon also gives up on a silent connection after twice this`;

export const planCommand: Command = {
  usage: `Usage: canon plan [--dir registry] [--database <db>] [--format text|markdown|json|sql] [--out plan.json]

Validates the registry, diffs it against the live database and prints the changes: assets to
create, update (field by field) and delete, schema changes, and row-level-security policy changes
(those that widen what tenants can access are flagged). Nothing is written.

Options:
${planOptionsHelp}
  --format <f>          text (default), markdown (a pull-request comment), json (versioned), sql
                        (exactly the statements apply would run)
  --out <file>          also save the plan as JSON, for 'canon apply <file>'
  --detailed-exitcode   exit 2 when there are changes (0 none, 1 error)
  -h, --help            show this help`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('plan', args, {
      ...planOptions,
      format: { type: 'string' },
      out: { type: 'string' },
      'detailed-exitcode': { type: 'boolean', default: false },
    });
    const format = oneOf('plan', 'format', values.format, ['text', 'markdown', 'json', 'sql'] as const, 'text');
    const catalog = catalogFor(values.schemas);
    const schema = schemaOptionsFor(values, io);
    const limits = {
      statementTimeoutMs: parseDuration('plan', 'statement-timeout', values['statement-timeout'], 60_000),
      lockTimeoutMs: parseDuration('plan', 'lock-timeout', values['lock-timeout'], 30_000),
    };
    const db = await openFromOptions(values, io, 'canon plan', limits);
    try {
      const outcome = await planRegistry(db, {
        dir: values.dir!, cacheDir: parseCacheDir, catalog, schema, deleteMode: values['hard-delete'] ? 'hard' : 'soft',
        validators: await cachedValidators(catalog, validatorCacheDir(io.env)),
        // Progress only on a terminal: piped output (a PR comment, JSON) stays exactly the plan.
        ...(io.stderr.isTTY ? { onStage: (stage: string) => io.stderr.write(styleFor(io.stderr, io.env).dim(`${stage}…`) + '\n') } : {}),
        ...limits,
      });
      const style = styleFor(io.stdout, io.env);
      if (!outcome.ok) {
        io.stdout.write(renderBlockingDiagnostics(outcome.diagnostics, style, 'nothing was planned'));
        return exitCodes.error;
      }
      const { plan } = outcome;
      for (const d of outcome.diagnostics) io.stderr.write(formatDiagnostic(d, styleFor(io.stderr, io.env)) + '\n');
      if (plan.diagnostics.length > 0) return exitCodes.error;
      if (values.out) writeOutputFile('plan', 'the plan', values.out, renderPlanJson(plan));
      const render = { text: () => renderPlanText(plan, style), markdown: () => renderPlanMarkdown(plan), json: () => renderPlanJson(plan), sql: () => renderPlanSql(outcome.statements) };
      io.stdout.write(render[format]());
      if (values.out && format === 'text') io.stdout.write(`\nSaved the plan to ${values.out}. Apply exactly it with: canon apply ${values.out}\n`);
      return values['detailed-exitcode'] && hasChanges(plan) ? exitCodes.changes : exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

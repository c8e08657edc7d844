import { planRegistry } from '../../pipeline/plan.ts';
import { hasChanges } from '../../plan/model.ts';
import { formatDiagnostic, renderBlockingDiagnostics } from '../../render/diagnostics.ts';
import { diagnosticCommand, renderPlanGithub } from '../../render/github.ts';
import { renderPlanJson } from '../../render/plan/json.ts';
import { renderPlanMarkdown } from '../../render/plan/markdown.ts';
import { renderPlanSql } from '../../render/plan/sql.ts';
import { planTextLines, renderPlanText } from '../../render/plan/text.ts';
import { plainStyle, styleFor } from '../../render/style.ts';
import { cachedValidators } from '../../validate/compiled-cache.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { validatorCacheDir } from '../cache-dirs.ts';
import { databaseHelp, databaseOptions, openFromOptions, parseCacheDir, schemaOptionsFor } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { type CliIO, exitCodes, writeLines } from '../io.ts';
import { writeOutputFile } from '../output-file.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

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

/** In GitHub Actions, the run that made the plan: its artifacts hold the full JSON plan. */
function runOf(env: NodeJS.ProcessEnv): { fullPlanUrl?: string } {
  const { GITHUB_SERVER_URL: server, GITHUB_REPOSITORY: repository, GITHUB_RUN_ID: run } = env;
  return server && repository && run ? { fullPlanUrl: `${server}/${repository}/actions/runs/${run}` } : {};
}

export const planCommand: Command = {
  usage: `Usage: canon plan [--dir registry] [--database <db>] [--format <f>] [--out plan.json] [--detailed-exitcode]

Validates the registry, diffs it against the live database and prints the changes: assets to
create, update (field by field) and delete, schema changes, and row-level-security policy changes
(those that widen what tenants can access are flagged). Nothing is written.

Options:
${planOptionsHelp}
  --format text|markdown|json|sql|github  text (default); markdown, a pull-request comment (risks
                        first, a hidden marker line to update it in place, under GitHub's size
                        limit); json, versioned; sql, exactly the statements apply would run; github,
                        workflow commands: risks and changed assets as annotations, then the text plan
  --out <file>          also save the plan as JSON, for 'canon apply <file>'
  --detailed-exitcode   exit 2 when there are changes (0 none, 1 error)
  -h, --help            show this help

Exit status: 0 success, 1 error; with --detailed-exitcode, 0 no changes, 1 error, 2 changes.`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('plan', args, {
      ...planOptions,
      format: { type: 'string' },
      out: { type: 'string' },
      'detailed-exitcode': { type: 'boolean', default: false },
    });
    const formats = ['text', 'markdown', 'json', 'sql', 'github'] as const;
    const format = oneOf('plan', 'format', values.format, formats, 'text');
    const github = { cwd: process.cwd(), workspace: io.env.GITHUB_WORKSPACE };
    const catalog = catalogFor(values.schemas);
    const schema = schemaOptionsFor(values, io);
    const limits = {
      statementTimeoutMs: parseDuration('plan', 'statement-timeout', values['statement-timeout'], 60_000),
      lockTimeoutMs: parseDuration('plan', 'lock-timeout', values['lock-timeout'], 30_000),
    };
    const db = await openFromOptions(values, io, 'canon plan', schema, limits);
    try {
      const outcome = await planRegistry(db, {
        dir: values.dir!,
        cacheDir: parseCacheDir,
        catalog,
        schema,
        deleteMode: values['hard-delete'] ? 'hard' : 'soft',
        validators: await cachedValidators(catalog, validatorCacheDir(io.env)),
        // Progress only on a terminal: piped output (a PR comment, JSON) stays exactly the plan.
        ...(io.stderr.isTTY
          ? { onStage: (stage: string) => io.stderr.write(styleFor(io.stderr, io.env).dim(`${stage}…`) + '\n') }
          : {}),
        ...limits,
      });
      const style = styleFor(io.stdout, io.env);
      const blocked = !outcome.ok || outcome.plan.diagnostics.length > 0;
      if (blocked && format === 'github') {
        const annotations = outcome.diagnostics.map((d) => diagnosticCommand(d, github));
        io.stdout.write(`${annotations.join('\n')}\nNothing was planned.\n`);
        return exitCodes.error;
      }
      if (!outcome.ok) {
        io.stdout.write(renderBlockingDiagnostics(outcome.diagnostics, style, 'nothing was planned'));
        return exitCodes.error;
      }
      const { plan } = outcome;
      // In the github format warnings are annotations on stdout; printed here too, the log would hold them twice.
      const warnings = format === 'github' ? [] : outcome.diagnostics;
      for (const d of warnings) io.stderr.write(formatDiagnostic(d, styleFor(io.stderr, io.env)) + '\n');
      if (plan.diagnostics.length > 0) return exitCodes.error;
      if (values.out) writeOutputFile('plan', 'the plan', values.out, renderPlanJson(plan));
      const render = {
        text: () => planTextLines(plan, style),
        markdown: () => [renderPlanMarkdown(plan, { schema: outcome.migration.schemaName, ...runOf(io.env) })],
        json: () => [renderPlanJson(plan)],
        sql: () => [renderPlanSql(outcome.statements)],
        github: () => [renderPlanGithub(plan, renderPlanText(plan, plainStyle), github, outcome.diagnostics)],
      };
      // The text plan is written as it is rendered; the other formats are one string each, ending in a newline.
      if (format === 'text') writeLines(io.stdout, render.text());
      else for (const text of render[format]()) io.stdout.write(text);
      if (values.out && format === 'text')
        io.stdout.write(`\nSaved the plan to ${values.out}. Apply exactly it with: canon apply ${values.out}\n`);
      return values['detailed-exitcode'] && hasChanges(plan) ? exitCodes.changes : exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

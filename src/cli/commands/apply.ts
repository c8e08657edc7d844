import { readFileSync } from 'node:fs';
import { applyRegistry } from '../../apply/apply.ts';
import { isPolicyChange } from '../../migrate/changes.ts';
import type { Plan } from '../../plan/model.ts';
import { formatDiagnostic, renderBlockingDiagnostics } from '../../render/diagnostics.ts';
import { renderPlanJson } from '../../render/plan/json.ts';
import { planTextLines, targetText } from '../../render/plan/text.ts';
import { styleFor } from '../../render/style.ts';
import { cachedValidators } from '../../validate/compiled-cache.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { validatorCacheDir } from '../cache-dirs.ts';
import { openFromOptions, parseCacheDir, schemaOptionsFor } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { type CliIO, exitCodes, UsageError, writeLines } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';
import { planOptions, planOptionsHelp } from './plan.ts';

interface SavedPlan {
  format_version: string;
  database_id?: string | null;
  database_schema?: string;
  plan_hash: string;
  registry_hash: string;
  live_hash: string;
  delete_mode: 'soft' | 'hard';
}

function readSavedPlan(path: string): SavedPlan {
  let parsed: Partial<SavedPlan>;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(
      `canon apply: cannot read the plan ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
    );
  }
  if (parsed.format_version !== '1' || typeof parsed.plan_hash !== 'string')
    throw new UsageError(`canon apply: ${path} is not a plan saved by 'canon plan --out' (format_version 1)`);
  return parsed as SavedPlan;
}

export const applyCommand: Command = {
  usage: `Usage: canon apply [plan.json] [--auto-approve] [--allow-delete] [--dir registry] [--database <db>]

Plans (see 'canon plan') and asks, holding no lock and no transaction. Then, under an advisory
lock, plans again and refuses if anything changed while you decided; otherwise applies the plan in
one transaction: schema changes, then rows parents before children, then deletes. Any failure leaves
the database exactly as it was. With a plan file saved by 'canon plan --out', applies exactly that
plan, only to the database it was made for, and refuses if the registry or the database changed since.

Options:
${planOptionsHelp}
  --auto-approve        do not ask for confirmation (CI)
  --allow-delete        allow the plan to delete assets removed from the registry
  --allow-destructive   allow destructive schema changes
  --format text|json    output (default: text)
  -h, --help            show this help

Exit status: 0 applied or nothing to do, 1 error or refused.`,
  async run(args: string[], io: CliIO) {
    const { values, positionals } = parseCommandArgs(
      'apply',
      args,
      {
        ...planOptions,
        'auto-approve': { type: 'boolean', default: false },
        'allow-delete': { type: 'boolean', default: false },
        'allow-destructive': { type: 'boolean', default: false },
        format: { type: 'string' },
      },
      true,
    );
    if (positionals.length > 1)
      throw new UsageError(`canon apply: takes at most one plan file, got ${positionals.length}.`);
    const format = oneOf('apply', 'format', values.format, ['text', 'json'] as const, 'text');
    const saved = positionals[0] ? readSavedPlan(positionals[0]) : undefined;
    if (!saved && !values['auto-approve'] && !io.prompt) {
      throw new UsageError(
        'canon apply: no terminal to ask for confirmation; ' +
          'pass --auto-approve, or apply a plan saved with canon plan --out',
      );
    }
    const catalog = catalogFor(values.schemas);
    const schema = schemaOptionsFor(values, io);
    const style = styleFor(io.stdout, io.env);
    const errStyle = styleFor(io.stderr, io.env);
    const confirm =
      saved || values['auto-approve']
        ? undefined
        : async (plan: Plan) => {
            writeLines(io.stdout, planTextLines(plan, style));
            const answer = await io.prompt!(
              `\nApply these changes to ${targetText(plan)}? Only 'yes' will be accepted: `,
            );
            return answer.trim() === 'yes';
          };
    let lastProgress = 0;
    const limits = {
      statementTimeoutMs: parseDuration('apply', 'statement-timeout', values['statement-timeout'], 60_000),
      lockTimeoutMs: parseDuration('apply', 'lock-timeout', values['lock-timeout'], 30_000),
    };
    const db = await openFromOptions(values, io, 'canon apply', schema, limits);
    try {
      const outcome = await applyRegistry(db, {
        dir: values.dir!,
        cacheDir: parseCacheDir,
        catalog,
        schema,
        validators: await cachedValidators(catalog, validatorCacheDir(io.env)),
        deleteMode: saved?.delete_mode ?? (values['hard-delete'] ? 'hard' : 'soft'),
        ...limits,
        allowDelete: values['allow-delete']!,
        allowDestructive: values['allow-destructive']!,
        ...(saved
          ? {
              saved: {
                planHash: saved.plan_hash,
                registryHash: saved.registry_hash,
                liveHash: saved.live_hash,
                ...(saved.database_id ? { databaseId: saved.database_id } : {}),
                ...(typeof saved.database_schema === 'string' ? { databaseSchema: saved.database_schema } : {}),
              },
            }
          : {}),
        ...(confirm ? { confirm } : {}),
        onStatement: (i, total, purpose) => {
          if (format !== 'text' || Date.now() - lastProgress < 500) return;
          lastProgress = Date.now();
          io.stderr.write(errStyle.dim(`Applying ${i + 1}/${total}: ${purpose}`) + '\n');
        },
      });
      if (outcome.status === 'invalid') {
        io.stdout.write(renderBlockingDiagnostics(outcome.diagnostics, style, 'nothing was changed'));
        return exitCodes.error;
      }
      for (const d of outcome.diagnostics) io.stderr.write(formatDiagnostic(d, errStyle) + '\n');
      const { plan } = outcome;
      if (format === 'json') {
        io.stdout.write(
          JSON.stringify(
            {
              ...JSON.parse(renderPlanJson(plan)),
              applied: outcome.status === 'applied',
              duration_ms: Math.round(outcome.durationMs),
            },
            null,
            2,
          ) + '\n',
        );
        return exitCodes.ok;
      }
      if (!confirm || outcome.status === 'unchanged') writeLines(io.stdout, planTextLines(plan, style));
      if (outcome.status === 'applied') {
        const s = plan.summary;
        const policies = plan.schema.filter(isPolicyChange).length;
        const schema = plan.schema.length - policies;
        const schemaText = schema ? `, ${schema} schema changes` : '';
        const policiesText = policies ? `, ${policies} policy changes` : '';
        io.stdout.write(
          style.green(
            `\nApply complete: ${s.create} created, ${s.update} updated, ` +
              `${s.delete} deleted${schemaText}${policiesText} ` +
              `(${outcome.statements} statements, ${Math.round(outcome.durationMs)} ms).`,
          ) + '\n',
        );
      }
      return exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

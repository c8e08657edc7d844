import { type DriftEntry, driftRegistry } from '../../drift/drift.ts';
import { writeDrift } from '../../drift/write.ts';
import { shapesOf } from '../../plan/shape.ts';
import { formatDiagnostic, renderBlockingDiagnostics } from '../../render/diagnostics.ts';
import { assetTitle, fieldLines } from '../../render/plan/text.ts';
import { type Style, styleFor } from '../../render/style.ts';
import { cachedValidators } from '../../validate/compiled-cache.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { validatorCacheDir } from '../cache-dirs.ts';
import { databaseHelp, databaseOptions, openFromOptions, parseCacheDir, schemaOptionsFor } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { type CliIO, exitCodes } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

const stands = {
  differs: 'a plan would overwrite it',
  matches: 'the registry already holds these values',
  absent: 'not in the registry any more',
} as const;

function entryText(e: DriftEntry, style: Style): string[] {
  const where = e.source ? style.dim(` ${e.source.file}:${e.source.line}:${e.source.column}`) : '';
  const at = e.updatedAt ? `updated_at ${e.updatedAt}; ` : '';
  const lines = [style.bold(`  # ${assetTitle(e)}`) + where, style.dim(`    ${at}${stands[e.registry]}`)];
  if (!e.applied) lines.push(style.yellow('    Canon kept no record of what it wrote: the changed fields are unknown'));
  for (const f of e.fields) lines.push(...fieldLines(f, 'update', style));
  return [...lines, ''];
}

const entryJson = (e: DriftEntry) => ({
  kind: e.kind,
  id: e.id,
  tenant: e.tenant,
  uuid: e.uuid,
  table: e.table,
  updated_at: e.updatedAt,
  registry: e.registry,
  source: e.source,
  fields: e.fields,
});

export const driftCommand: Command = {
  usage: `Usage: canon drift [--dir registry] [--database <db>] [--format text|json] [--detailed-exitcode] [--write]

Finds the rows Canon manages that were changed outside Canon since the last apply (a console edit of
a prompt in production, an UPDATE by hand, a relation row deleted by SQL): for each, the fields that
changed, what Canon last wrote → what the database holds, and the row's updated_at. 'canon plan'
marks the updates that would overwrite such changes. Reads only, unless --write.

Drift is an operator's command: connect as the database owner (a role that bypasses row-level
security, as plan and apply do); Canon refuses a role that row-level security filters, since it
would see only part of the rows.

Options:
${databaseHelp}
  --format text|json    text (default), or json: {format_version, database, managed, drifted: [...]}
  --write               take the database's values into the registry's YAML files, in place: only
                        the changed values are rewritten (comments, key order, quoting and every
                        other line stay as they are), so 'canon plan' then shows 0 changes for them
  --detailed-exitcode   exit 2 when there is drift the registry does not hold (0 none, 1 error)
  --statement-timeout <d>  limit for each statement (default: 60s)
  -h, --help            show this help

Exit status: 0 success (drift or not), 1 error (also when --write could not take some drift into
the registry: a changed id, a reference to a row Canon does not manage, no record of what Canon
wrote; each is named); with --detailed-exitcode, 0 no drift (or all of it in the registry, after
--write), 1 error, 2 drift.`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('drift', args, {
      ...databaseOptions,
      format: { type: 'string' },
      write: { type: 'boolean', default: false },
      'detailed-exitcode': { type: 'boolean', default: false },
      'statement-timeout': { type: 'string' },
    });
    const format = oneOf('drift', 'format', values.format, ['text', 'json'] as const, 'text');
    const catalog = catalogFor(values.schemas);
    const schema = schemaOptionsFor(values, io);
    const limits = {
      statementTimeoutMs: parseDuration('drift', 'statement-timeout', values['statement-timeout'], 60_000),
      lockTimeoutMs: 30_000,
    };
    const db = await openFromOptions(values, io, 'canon drift', schema, limits);
    try {
      const outcome = await driftRegistry(db, {
        dir: values.dir!,
        catalog,
        schema,
        cacheDir: parseCacheDir,
        validators: await cachedValidators(catalog, validatorCacheDir(io.env)),
        ...limits,
      });
      const style = styleFor(io.stdout, io.env);
      if (!outcome.ok) {
        io.stdout.write(renderBlockingDiagnostics(outcome.diagnostics, style, 'nothing was checked'));
        return exitCodes.error;
      }
      for (const d of outcome.diagnostics) io.stderr.write(`${formatDiagnostic(d, styleFor(io.stderr, io.env))}\n`);
      const { entries } = outcome;
      const written = values.write ? writeDrift(entries, shapesOf(catalog), outcome.label) : undefined;
      const adopted = new Set(written?.adopted.map((e) => e.uuid));
      const open = entries.filter((e) => e.registry !== 'matches' && !adopted.has(e.uuid));
      if (format === 'json') {
        const report = {
          format_version: '1',
          database: db.label,
          managed: outcome.managed,
          drifted: entries.map(entryJson),
          ...(written
            ? {
                written: {
                  files: written.files,
                  adopted: written.adopted.map((e) => ({ kind: e.kind, id: e.id, tenant: e.tenant })),
                  skipped: written.skipped.map(({ entry: e, reason }) => ({ kind: e.kind, id: e.id, reason })),
                },
              }
            : {}),
        };
        io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else {
        const out: string[] = [];
        for (const e of entries) out.push(...entryText(e, style));
        if (written) {
          for (const { entry, reason } of written.skipped)
            out.push(style.yellow(`  ! ${assetTitle(entry)}: ${reason}`));
          const files = written.files.length === 1 ? 'file' : 'files';
          out.push(`Wrote ${written.adopted.length} drifted assets into ${written.files.length} ${files}.`);
        }
        out.push(
          entries.length === 0
            ? style.green(`No drift. ${db.label}: ${outcome.managed} managed rows as Canon last wrote them.`)
            : style.bold(
                `Drift: ${entries.length} of ${outcome.managed} managed rows changed outside Canon ` +
                  'since the last apply' +
                  `${open.length < entries.length ? ` (${entries.length - open.length} held by the registry)` : ''}.`,
              ),
        );
        io.stdout.write(`${out.join('\n')}\n`);
      }
      const failed = written !== undefined && written.skipped.length > 0;
      if (failed) return exitCodes.error;
      return values['detailed-exitcode'] && open.length > 0 ? exitCodes.changes : exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

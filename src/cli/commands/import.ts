import { existsSync, readdirSync } from 'node:fs';
import { importRegistry } from '../../import/import.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { openFromOptions, schemaOptionsFor } from '../database.ts';
import { type CliIO, exitCodes, UsageError } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';
import { legacyUsage } from './import-legacy-usage.ts';

export const importCommand: Command = {
  usage: `Usage: canon import --out <folder> [--database <db>] [--all] [--kind K]… [--tenant T]…

Reads Canon's tables (in one read-only transaction) and writes the rows as registry YAML: one
file per tenant and kind (<out>/platform/agents.yaml, <out>/tenants/<id>/prompts.yaml), documents
sorted by id, keys in schema order, 'uuid:' pinned so that applying the files takes the rows over,
references written as ids, relation rows as the authoring format's lists. Computed and audit
columns (database ids, timestamps, version, search vectors, embeddings) are not written. Two
imports of the same database are byte-identical. Soft-deleted rows are skipped and counted.

Options:
  --out <folder>        where to write (must be empty or missing)
  --database <db>       memory:, pglite:<folder>, or a postgres:// URL (default: $DATABASE_URL,
                        else the embedded database in .canon/db)
  --all                 also rows Canon already manages (default: only those it does not)
  --kind <Kind>         only this kind (repeatable)
  --tenant <id>         only this tenant's assets; 'platform' for shared ones (repeatable)
  --format text|json    the summary's format (default: text)
  --schemas <folder>    the kind schemas (default: ./schemas, else Canon's own)
  --schema <name>       the PostgreSQL schema Canon's tables are in (default: "schema:" in
                        <dir>/canon.yaml, else the connection's current schema, usually public)
  --dir <folder>        the registry folder whose canon.yaml is read for "schema:" (default: registry)
  -h, --help            show this help

Exit status: 0 when every row read was written or skipped for a stated reason, 1 otherwise
(for example a reference to a row that no longer exists).

${legacyUsage}`,
  async run(args: string[], io: CliIO) {
    if (
      args.some((a) => a === '--legacy' || a.startsWith('--legacy=')) &&
      !args.some((a) => a === '-h' || a === '--help')
    )
      return (await import('./import-legacy.ts')).runLegacyImport(args, io);
    const { values } = parseCommandArgs('import', args, {
      out: { type: 'string' },
      database: { type: 'string' },
      all: { type: 'boolean', default: false },
      kind: { type: 'string', multiple: true },
      tenant: { type: 'string', multiple: true },
      format: { type: 'string' },
      schemas: { type: 'string' },
      schema: { type: 'string' },
      dir: { type: 'string', default: 'registry' },
    });
    const format = oneOf('import', 'format', values.format, ['text', 'json'] as const, 'text');
    if (!values.out) throw new UsageError(`canon import: --out <folder> is required. See 'canon import --help'.`);
    if (existsSync(values.out) && readdirSync(values.out).length > 0) {
      throw new UsageError(
        `canon import: ${values.out} is not empty; import writes into an empty folder, so nothing is overwritten`,
      );
    }
    const catalog = catalogFor(values.schemas);
    for (const kind of values.kind ?? []) {
      if (!catalog.kinds.has(kind)) {
        throw new UsageError(
          `canon import: unknown kind '${kind}'. Kinds: ${[...catalog.kinds.keys()].sort().join(', ')}`,
        );
      }
    }
    const db = await openFromOptions(values, io, 'canon import', schemaOptionsFor(values, io));
    try {
      const outcome = await importRegistry(db, catalog, values.out, {
        all: values.all!,
        ...(values.kind ? { kinds: values.kind } : {}),
        ...(values.tenant ? { tenants: values.tenant } : {}),
      });
      const ok = outcome.dangling.length === 0;
      if (format === 'json') {
        const summary = {
          format_version: '1',
          database: db.label,
          out: values.out,
          files: outcome.files,
          imported: outcome.documents.length,
          skipped: outcome.skipped,
          dangling_references: outcome.dangling,
        };
        io.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      } else {
        for (const d of outcome.dangling) {
          io.stderr.write(
            `canon import: ${d.kind} '${d.id}': ${d.property} points at ${d.uuid}, ` +
              'which no longer exists; not written\n',
          );
        }
        const reasons = new Map<string, number>();
        for (const s of outcome.skipped) reasons.set(s.reason, (reasons.get(s.reason) ?? 0) + 1);
        const skipped = [...reasons].map(([reason, n]) => `${n} ${reason}`).join(', ');
        io.stdout.write(
          `Imported ${outcome.documents.length} assets from ${db.label} ` +
            `into ${outcome.files.length} files under ${values.out}` +
            `${skipped ? `; skipped ${skipped}` : ''}.\n`,
        );
      }
      return ok ? exitCodes.ok : exitCodes.error;
    } finally {
      await db.close();
    }
  },
};

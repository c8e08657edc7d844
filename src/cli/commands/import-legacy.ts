import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { openDatabase, parseDatabaseSpec } from '../../db/open.ts';
import { MappingError } from '../../import/legacy/build.ts';
import { deprecationSql } from '../../import/legacy/deprecation.ts';
import { importLegacy } from '../../import/legacy/legacy.ts';
import { loadMapping, resolveMappingFile } from '../../import/legacy/mapping.ts';
import { reconciliationJson, reconciliationText, verificationText } from '../../import/legacy/report.ts';
import { verifyLegacy } from '../../import/legacy/verify.ts';
import { writeLegacyImport } from '../../import/legacy/write.ts';
import { formatDiagnostic } from '../../render/diagnostics.ts';
import { styleFor } from '../../render/style.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { openFromOptions, schemaOptionsFor } from '../database.ts';
import { type CliIO, exitCodes, UsageError } from '../io.ts';
import { catalogFor } from '../schemas.ts';

/** `canon import --legacy …`. */
export async function runLegacyImport(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs('import', args, {
    legacy: { type: 'string' },
    source: { type: 'string' },
    'source-schema': { type: 'string', default: 'public' },
    out: { type: 'string' },
    report: { type: 'string' },
    verify: { type: 'boolean', default: false },
    database: { type: 'string' },
    schema: { type: 'string' },
    'emit-deprecation-sql': { type: 'string' },
    format: { type: 'string' },
    schemas: { type: 'string' },
  });
  const format = oneOf('import', 'format', values.format, ['text', 'json'] as const, 'text');
  if (!values.source) throw new UsageError(`canon import: --legacy needs --source <db>, the legacy database.`);
  if (!values.out && !values.verify)
    throw new UsageError(`canon import: --legacy needs --out <folder> (or --verify --database <target>).`);
  if (values.verify && !values.database && !io.env.DATABASE_URL)
    throw new UsageError(
      `canon import: --verify needs --database <db> (or $DATABASE_URL), the target the import was applied to.`,
    );
  if (values.out && existsSync(values.out) && readdirSync(values.out).length > 0) {
    throw new UsageError(
      `canon import: ${values.out} is not empty; import writes into an empty folder, so nothing is overwritten`,
    );
  }
  const file = resolveMappingFile(values.legacy!);
  if (!file) throw new UsageError(`canon import: --legacy ${values.legacy}: no such preset or mapping file.`);
  const catalog = catalogFor(values.schemas);
  const { mapping, diagnostics } = loadMapping(file, catalog);
  if (!mapping) {
    const style = styleFor(io.stderr, io.env);
    for (const d of diagnostics) io.stderr.write(`${formatDiagnostic(d, style)}\n`);
    return exitCodes.error;
  }
  const spec = parseDatabaseSpec(values.source, {});
  if (spec.backend === 'pglite' && spec.dataDir !== null && !existsSync(join(spec.dataDir, 'PG_VERSION'))) {
    // Opening would create an empty database there: never make a source up.
    throw new UsageError(`canon import: --source ${values.source}: no embedded database in that folder.`);
  }
  const source = await openDatabase(spec, { purpose: 'canon import --legacy' });
  let result: Awaited<ReturnType<typeof importLegacy>>;
  try {
    result = await importLegacy(source, catalog, mapping, values['source-schema']!);
  } catch (e) {
    if (e instanceof MappingError) throw new UsageError(`canon import: ${e.message}`);
    throw e;
  } finally {
    await source.close();
  }
  const tables = mapping.sources.filter((s) => s.table).length;
  if (tables > 0 && result.missingTables.length === tables) {
    throw new UsageError(
      `canon import: none of the mapping's ${tables} tables is in schema '${values['source-schema']}' ` +
        `of ${source.label}; ` +
        'is --source-schema right?',
    );
  }
  const files = values.out ? writeLegacyImport(values.out, result.documents) : [];
  const header = {
    mapping: mapping.name,
    source: source.label,
    source_schema: values['source-schema'],
    out: values.out ?? null,
    files,
  };
  const report = reconciliationJson(result, header);
  if (values.report) {
    mkdirSync(dirname(values.report), { recursive: true });
    writeFileSync(values.report, `${JSON.stringify(report, null, 2)}\n`);
  }
  let ok = result.complete;
  if (values['emit-deprecation-sql']) {
    if (result.complete)
      writeFileSync(values['emit-deprecation-sql'], deprecationSql(mapping, values['source-schema']!, new Date()));
    else io.stderr.write('canon import: rows are unaccounted for; the deprecation SQL was not written\n');
  }
  let verification: Awaited<ReturnType<typeof verifyLegacy>> | undefined;
  let targetLabel = '';
  if (values.verify) {
    // The target's schema: --schema, else the imported registry's canon.yaml.
    const schema = schemaOptionsFor(
      { dir: values.out ?? 'registry', ...(values.schema ? { schema: values.schema } : {}) },
      io,
    );
    const target = await openFromOptions(values, io, 'canon import --verify', schema);
    targetLabel = target.label; // the URL without its password
    try {
      verification = await verifyLegacy(target, catalog, result);
    } finally {
      await target.close();
    }
    ok &&= verification.ok;
  }
  if (format === 'json') {
    io.stdout.write(`${JSON.stringify(verification ? { ...report, verification } : report, null, 2)}\n`);
  } else {
    io.stdout.write(`Legacy import (${mapping.name}) from ${source.label}, schema ${values['source-schema']}:\n\n`);
    io.stdout.write(reconciliationText(result));
    if (values.out)
      io.stdout.write(`\nWrote ${result.documents.length} assets into ${files.length} files under ${values.out}.\n`);
    if (verification) io.stdout.write(`\nVerification against ${targetLabel}:\n\n${verificationText(verification)}`);
  }
  return ok ? exitCodes.ok : exitCodes.error;
}

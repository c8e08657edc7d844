import { configFileName, loadConfig } from '../config/config.ts';
import { type Database, openDatabase, parseDatabaseSpec } from '../db/open.ts';
import { schemaNameProblem } from '../db/search-path.ts';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { formatDiagnostic } from '../render/diagnostics.ts';
import { styleFor } from '../render/style.ts';
import type { CliIO } from './io.ts';
import { UsageError } from './io.ts';

/** Options every command that touches a database takes. */
export const databaseOptions = {
  database: { type: 'string' },
  'no-embeddings': { type: 'boolean', default: false },
  dir: { type: 'string', default: 'registry' },
  schemas: { type: 'string' },
  schema: { type: 'string' },
} as const;

export const databaseHelp =
  '  --database <db>       memory:, pglite:<folder>, or a postgres:// URL (default: $DATABASE_URL,\n' +
  `                        else the embedded database in .canon/db)
  --no-embeddings       build everything except the vector column and its index (for servers
                        without pgvector); also "embeddings: {enabled: false}" in canon.yaml
  --dir <folder>        the registry folder, whose canon.yaml holds settings (default: registry)
  --schemas <folder>    the kind schemas (default: ./schemas, else Canon's own)
  --schema <name>       the PostgreSQL schema Canon's tables, functions and policies live in (default:
                        "schema:" in canon.yaml, else the connection's current schema, usually public)`;

/** `--schema` as given, when it is a schema name Canon accepts. */
export function checkedSchemaName(name: string): string {
  const wrong = schemaNameProblem(name);
  if (wrong) throw new UsageError(`canon: --schema ${wrong}: name a PostgreSQL schema such as registry`);
  return name;
}

/** Settings from canon.yaml, overridden by flags. Bad settings are diagnostics, reported like any other. */
export function schemaOptionsFor(
  values: { dir?: string; 'no-embeddings'?: boolean; schema?: string },
  io: CliIO,
): SchemaOptions {
  const { config, diagnostics } = loadConfig(values.dir ?? 'registry');
  if (diagnostics.length > 0) {
    const style = styleFor(io.stderr, io.env);
    for (const d of diagnostics) io.stderr.write(formatDiagnostic(d, style) + '\n');
    if (hasErrors(diagnostics)) throw new UsageError(`canon: ${configFileName} has errors; nothing was done`);
  }
  const pgSchema = values.schema === undefined ? config.schema : checkedSchemaName(values.schema);
  return {
    ...(pgSchema ? { pgSchema } : {}),
    embeddings: config.embeddings.enabled && !values['no-embeddings'],
    dimensions: config.embeddings.dimensions,
    tenancy: config.tenancy,
  };
}

/**
 * Opens `--database` with Canon's schema (`schema.pgSchema`) as every session's search_path; `limits`
 * bound every statement on every connection (plan and apply set them per session too).
 */
export function openFromOptions(
  values: { database?: string },
  io: CliIO,
  purpose: string,
  schema: Pick<SchemaOptions, 'pgSchema'>,
  limits: { statementTimeoutMs?: number; lockTimeoutMs?: number } = {},
): Promise<Database> {
  const options = { purpose, ...limits, ...(schema.pgSchema ? { schema: schema.pgSchema } : {}) };
  return openDatabase(parseDatabaseSpec(values.database, io.env), options);
}

export { parseCacheDir } from './cache-dirs.ts';

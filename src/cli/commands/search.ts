import { z } from 'zod';
import { loadConfig } from '../../config/config.ts';
import { hasTable } from '../../db/session.ts';
import { sql } from '../../db/sql.ts';
import { didYouMean } from '../../diagnostics/suggest.ts';
import { ProviderSetupError, providerFor } from '../../embed/providers.ts';
import { type SearchResult, searchRegistry } from '../../embed/search.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { databaseHelp, databaseOptions, openFromOptions, schemaOptionsFor } from '../database.ts';
import { type CliIO, exitCodes, UsageError } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

export const searchCommand: Command = {
  usage: `Usage: canon search "<query>" [--tenant <id>] [--kind <Kind>]... [--limit 10] [--format text|json]

Hybrid retrieval over the registry in the database: full-text search over knowledge chunks and
assets' search text, and vector similarity over chunks embedded with the configured model (the query
is embedded by the provider in canon.yaml), fused by reciprocal rank. When vector search cannot run
(no pgvector, no provider, nothing embedded yet) the results say why and full-text still runs.

Options:
${databaseHelp}
  --tenant <id>         search as that tenant: the application role with the tenant set, so
                        row-level security decides what is found (default: as Canon, everything)
  --kind <Kind>         only this kind (repeatable), e.g. KnowledgeSource
  --limit <n>           results to show (default: 10)
  --format text|json    output (default: text)
  -h, --help            show this help`,
  async run(args: string[], io: CliIO) {
    const { values, positionals } = parseCommandArgs(
      'search',
      args,
      {
        ...databaseOptions,
        tenant: { type: 'string' },
        kind: { type: 'string', multiple: true },
        limit: { type: 'string' },
        format: { type: 'string' },
      },
      true,
    );
    const format = oneOf('search', 'format', values.format, ['text', 'json'] as const, 'text');
    if (positionals.length !== 1 || positionals[0]!.trim() === '')
      throw new UsageError(`canon search: give one query, in quotes. See 'canon search --help'.`);
    const query = positionals[0]!;
    const limit = values.limit === undefined ? 10 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError(`canon search: --limit takes a whole number from 1 to 1000, not '${values.limit}'.`);
    const catalog = catalogFor(values.schemas);
    const known = [...catalog.kinds.keys()];
    for (const kind of values.kind ?? []) {
      if (!catalog.kinds.has(kind))
        throw new UsageError(
          `canon search: unknown kind '${kind}'.${didYouMean(kind, known) || ` Known kinds: ${known.join(', ')}.`}`,
        );
    }
    const schema = schemaOptionsFor(values, io);
    const { config } = loadConfig(values.dir!);
    const settings = { ...config.embeddings, dimensions: schema.dimensions };
    let provider;
    let providerProblem: string | undefined;
    try {
      provider = schema.embeddings ? await providerFor(settings, io.env) : undefined;
      if (!schema.embeddings) providerProblem = 'embeddings are off (--no-embeddings, or embeddings.enabled: false)';
    } catch (e) {
      if (!(e instanceof ProviderSetupError)) throw e;
      providerProblem = e.message;
    }
    const db = await openFromOptions(values, io, 'canon search', schema);
    try {
      // Checked in Canon's schema: tables of the same names elsewhere in the search_path are not Canon's.
      if (!(await hasTable(db.pool, db.schema, 'canon_managed_rows'))) {
        io.stderr.write(
          `canon search: ${db.label} has no Canon tables in schema ${db.schema}; run 'canon apply' first\n`,
        );
        return exitCodes.error;
      }
      let tenant: string | undefined;
      if (values.tenant !== undefined) {
        const tenants = catalog.tenantKind ? catalog.kinds.get(catalog.tenantKind.kind)!.table : undefined;
        const found = tenants
          ? await db.pool.maybeOneFirst(sql.type(z.object({ id: z.string() }))`
          SELECT id FROM ${sql.identifier([tenants])}
          WHERE unique_id = ${values.tenant} OR id::text = ${values.tenant} LIMIT 1`)
          : null;
        if (!found) {
          io.stderr.write(`canon search: no tenant '${values.tenant}' in ${db.label}\n`);
          return exitCodes.error;
        }
        tenant = found;
      }
      const result = await searchRegistry(db.pool, {
        query,
        limit,
        catalog,
        ...(values.kind ? { kinds: values.kind } : {}),
        ...(tenant ? { tenant } : {}),
        tenancy: config.tenancy,
        model: settings.model,
        ...(provider ? { provider } : {}),
        ...(providerProblem ? { providerProblem } : {}),
      });
      io.stdout.write(
        format === 'json'
          ? JSON.stringify({ query, tenant: values.tenant ?? null, ...result }, null, 2) + '\n'
          : resultText(query, values.tenant, result),
      );
      return exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

function resultText(query: string, tenant: string | undefined, result: SearchResult): string {
  const how = result.vector.used ? 'full-text and vector, fused by reciprocal rank' : 'full-text only';
  const lines = [
    `${result.hits.length} results for ${JSON.stringify(query)} (${how})${tenant ? ` as tenant ${tenant}` : ''}:`,
  ];
  if (!result.vector.used) lines.push(`  vector search skipped: ${result.vector.reason}`);
  result.hits.forEach((h, i) => {
    const where = h.chunk ? ` chunk ${h.chunk.index}${h.chunk.section ? ` "${h.chunk.section}"` : ''}` : '';
    const ranks = [h.ranks.text ? `text #${h.ranks.text}` : '', h.ranks.vector ? `vector #${h.ranks.vector}` : '']
      .filter(Boolean)
      .join(', ');
    const snippet = h.text.replace(/\s+/g, ' ').slice(0, 160);
    lines.push(
      `${String(i + 1).padStart(3)}. ${h.kind} ${h.id}${where} (${ranks})`,
      `     ${snippet}${h.text.length > 160 ? '…' : ''}`,
    );
  });
  return lines.join('\n') + '\n';
}

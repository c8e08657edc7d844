import type { CompiledStatement } from '../compile/compile.ts';
import { sql } from '../db/sql.ts';
import type { ChunkPlan, SourceChunks } from './plan.ts';
import { jobsTable } from './queue.ts';

const json = (rows: Record<string, unknown>[]) => sql.json(rows as never);

/**
 * Chunk plan → set-based statements for apply's transaction, per chunk table: delete rows past each
 * source's new end, upsert the rows whose text changed (taking a vector over from a row that already
 * holds this text from this model), then enqueue one job per chunk still without one. Nothing here
 * reaches the network: the worker embeds after the transaction commits.
 */
export function compileChunks(plan: ChunkPlan, options: { vectors: boolean; applyId: string }): CompiledStatement[] {
  const out: CompiledStatement[] = [];
  const tables = new Map<string, SourceChunks[]>();
  for (const s of plan.sources) {
    const list = tables.get(s.table);
    if (list) list.push(s);
    else tables.set(s.table, [s]);
  }
  for (const [table, sources] of [...tables].sort(([a], [b]) => a.localeCompare(b))) {
    const t = sql.identifier([table]);
    const owner = sql.identifier([sources[0]!.ownerColumn]);
    const assets = sources.map(({ kind, id, tenant, uuid }) => ({ kind, id, tenant, uuid, source: null }));
    const deletes = sources.flatMap((s) => s.deletes);
    if (deletes.length > 0) {
      out.push({
        purpose: `remove ${table} rows no longer needed`,
        rows: deletes.length,
        assets,
        query: sql.unsafe`DELETE FROM ${t} WHERE id = ANY(${sql.array(deletes, 'uuid')})`,
      });
    }
    // Rows that change position step aside first (negative indexes), so no two hold one index meanwhile.
    const moves = sources.flatMap((s) => s.moves);
    const reused = sources.flatMap((s) => s.writes.flatMap((w) => (w.id ? [w.id] : [])));
    if (moves.length + reused.length > 0) {
      out.push({
        purpose: `free the positions of ${table} rows that move`,
        rows: moves.length + reused.length,
        assets,
        query: sql.unsafe`UPDATE ${t} SET chunk_index = -1 - chunk_index
          WHERE id = ANY(${sql.array([...moves.map((m) => m.id), ...reused], 'uuid')})`,
      });
    }
    if (moves.length > 0) {
      out.push({
        purpose: `renumber ${table} rows whose text is unchanged`,
        rows: moves.length,
        assets,
        query: sql.unsafe`UPDATE ${t} AS c SET chunk_index = x.chunk_index
          FROM json_to_recordset(${json(moves.map((m) => ({ id: m.id, chunk_index: m.index })))})
            AS x(id uuid, chunk_index integer)
          WHERE c.id = x.id`,
      });
    }
    const rows = sources.flatMap((s) =>
      s.writes.map((w) => ({
        id: w.id ?? null,
        owner: s.uuid,
        chunk_index: w.index,
        content: w.content,
        content_hash: w.hash,
        section_title: w.sectionTitle,
        token_count: w.tokenCount,
        reusable: w.reusable ?? false,
      })),
    );
    if (rows.length > 0) {
      const reuse = options.vectors
        ? {
            columns: sql.fragment`, embedding_model, embedding`,
            values: sql.fragment`, CASE WHEN v.embedding IS NOT NULL THEN ${plan.model} END, v.embedding`,
            from: sql.fragment`LEFT JOIN LATERAL (SELECT r.embedding FROM ${t} AS r
              WHERE x.reusable AND r.content_hash = x.content_hash AND r.embedding_model = ${plan.model}
                AND r.embedding IS NOT NULL
              LIMIT 1) AS v ON true`,
            set: sql.fragment`, embedding_model = EXCLUDED.embedding_model, embedding = EXCLUDED.embedding`,
          }
        : {
            columns: sql.fragment`, embedding_model`,
            values: sql.fragment`, NULL`,
            from: sql.fragment``,
            set: sql.fragment`, embedding_model = NULL`,
          };
      out.push({
        purpose: `upsert ${table}`,
        rows: rows.length,
        assets,
        query: sql.unsafe`INSERT INTO ${t}
            (id, ${owner}, chunk_index, content, content_hash, section_title, token_count${reuse.columns})
          SELECT coalesce(x.id, gen_random_uuid()), x.owner, x.chunk_index, x.content, x.content_hash, x.section_title,
            x.token_count${reuse.values}
          FROM json_to_recordset(${json(rows)})
            AS x(id uuid, owner uuid, chunk_index integer, content text, content_hash text, section_title text,
              token_count integer, reusable boolean)
          ${reuse.from}
          ON CONFLICT (id) DO UPDATE SET chunk_index = EXCLUDED.chunk_index, content = EXCLUDED.content,
            content_hash = EXCLUDED.content_hash,
            section_title = EXCLUDED.section_title, token_count = EXCLUDED.token_count${reuse.set}`,
      });
    }
    const wanted = sources.flatMap((s) => s.embed.map((index) => ({ owner: s.uuid, chunk_index: index })));
    if (options.vectors && wanted.length > 0) {
      // The WHERE re-checks in the database: a vector taken over above needs no job.
      const model = plan.model;
      out.push({
        purpose: `enqueue embedding jobs for ${table}`,
        rows: wanted.length,
        assets,
        query: sql.unsafe`INSERT INTO ${sql.identifier([jobsTable])}
            (chunk_table, chunk_id, content_hash, model, dimensions, token_count, state, apply_id)
          SELECT ${table}, c.id, c.content_hash, ${model}, ${plan.dimensions}, coalesce(c.token_count, 0), 'queued',
            ${options.applyId}::uuid
          FROM ${t} AS c JOIN json_to_recordset(${json(wanted)}) AS x(owner uuid, chunk_index integer)
            ON c.${owner} = x.owner AND c.chunk_index = x.chunk_index
          WHERE c.embedding IS NULL OR c.embedding_model IS DISTINCT FROM ${model}
          ON CONFLICT (chunk_table, chunk_id, content_hash, model, dimensions) DO UPDATE
            SET state = 'queued', attempts = 0, run_after = now(), enqueued_at = now(), finished_at = NULL,
              last_error = NULL,
              leased_until = NULL, leased_by = NULL, apply_id = EXCLUDED.apply_id
            WHERE ${sql.identifier([jobsTable, 'state'])} = 'done'`,
      });
    }
  }
  return out;
}

import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { EmbeddingSettings } from '../config/config.ts';
import { sql } from '../db/sql.ts';
import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import type { KindCatalog, KindModel } from '../kinds/model.ts';
import type { LiveSchema } from '../migrate/live.ts';
import type { RegistryGraph, ResolvedAsset } from '../resolve/graph.ts';
import { type Chunk, type ChunkSettings, chunkerVersion } from './chunk.ts';
import { cachedChunks } from './chunk-cache.ts';
import type { DocumentFormat } from './formats.ts';
import { jobsTable } from './queue.ts';
import { readSourceText } from './source.ts';

/** A chunk row as apply writes it: a live row's id when it takes one over, else the database gives one. */
export interface ChunkRow extends Chunk {
  id?: string;
  /** Another row holds a vector of this text from the configured model: apply copies it. */
  reusable?: boolean;
}

/** The chunk changes of one asset: which rows to write and delete, and what must be embedded. */
export interface SourceChunks {
  kind: string;
  id: string;
  tenant: string | null;
  uuid: string;
  /** The asset's own table (knowledge_sources), for messages. */
  sourceTable: string;
  table: string;
  ownerColumn: string;
  total: number;
  /** Rows to insert or overwrite (new text at an index); `id` is a live row's when one is reused. */
  writes: ChunkRow[];
  /** Live rows whose text is unchanged but whose position moved (a paragraph inserted above them). */
  moves: { id: string; index: number }[];
  /** Live rows no longer needed. */
  deletes: string[];
  unchanged: number;
  removed: number;
  /** Indexes whose chunk needs an embedding job after apply (no vector of this text and model). */
  embed: number[];
  /** Their tokens, as cl100k counts them: the estimate of what embedding costs. */
  embedTokens: number;
}

export interface ChunkPlan {
  sources: SourceChunks[];
  totals: {
    changed: number;
    moved: number;
    unchanged: number;
    removed: number;
    jobs: number;
    tokens: number;
    waiting: number;
  };
  /** Why no jobs are planned, when embeddings are off (shown, never silent). */
  embeddingsOff?: string;
  model: string;
  dimensions: number;
  /** Of everything above: part of the plan's hash, so a saved plan goes stale when chunks move. */
  hash: string;
  diagnostics: Diagnostic[];
}

export interface ChunkPlanInputs {
  graph: RegistryGraph;
  catalog: KindCatalog;
  live: LiveSchema;
  registryDir: string;
  chunking: ChunkSettings;
  embeddings: EmbeddingSettings;
  /** False when the schema has no vector column (--no-embeddings, or no pgvector). */
  vectors: boolean;
  /** Where chunk results are cached between runs (the CLI's user cache folder). */
  cacheDir?: string;
}

interface LiveChunk {
  id: string;
  index: number;
  hash: string;
  embedded: boolean;
}

const liveChunk = z.object({
  id: z.string(),
  owner: z.string(),
  chunk_index: z.number(),
  content_hash: z.string(),
  embedded: z.boolean(),
  intact: z.boolean(),
});

/** What planning chunks needs from the database, read once: `canon dev` re-plans against it on every save. */
export interface LiveChunks {
  /** Live chunk rows by chunk table, then by owning asset's uuid. */
  byTable: Map<string, Map<string, LiveChunk[]>>;
  /** Jobs already waiting for exactly this text, model and dimension (`table/id/hash`). */
  pending: Set<string>;
}

/** Chunks of a text with the chunker's settings; the CLI's disk cache by default, a session's memory in `canon dev`. */
export type Chunker = (text: string, format: DocumentFormat, settings: ChunkSettings) => Chunk[];

/**
 * Stage "plan" for chunks: each asset's text → chunks, diffed against the live rows by index and
 * content hash (only rows whose text changed are written), and the embedding jobs apply enqueues:
 * chunks with no vector of their text from the configured model, unless a job for exactly that is
 * already waiting. Reads the database (live chunks, pending jobs); writes nothing.
 */
export async function planChunks(db: CommonQueryMethods, input: ChunkPlanInputs): Promise<ChunkPlan> {
  return diffChunks(await readLiveChunks(db, input), input);
}

export async function readLiveChunks(
  db: CommonQueryMethods,
  input: Pick<ChunkPlanInputs, 'catalog' | 'live' | 'embeddings' | 'vectors'>,
): Promise<LiveChunks> {
  const { model, dimensions } = input.embeddings;
  const byTable = new Map<string, Map<string, LiveChunk[]>>();
  for (const kind of input.catalog.kinds.values()) {
    if (!kind.chunks) continue;
    const { table, owner } = kind.chunks;
    const liveTable = input.live.tables.get(table);
    const hasVector = input.vectors && liveTable?.columns.has('embedding') === true;
    byTable.set(table, liveTable ? await liveChunks(db, table, owner, kind.table, model, hasVector) : new Map());
  }
  return { byTable, pending: await pendingJobs(db, input.live, model, dimensions) };
}

/** The chunk plan against live chunks read before: no database access, so it can run on every save. */
export function diffChunks(
  state: LiveChunks,
  input: ChunkPlanInputs,
  chunker: Chunker = (text, format, settings) => cachedChunks(input.cacheDir, text, format, settings),
): ChunkPlan {
  const { model, dimensions } = input.embeddings;
  const diagnostics: Diagnostic[] = [];
  const sources: SourceChunks[] = [];
  const totals = { changed: 0, moved: 0, unchanged: 0, removed: 0, jobs: 0, tokens: 0, waiting: 0 };
  const hash = createHash('sha256').update(`${model} ${dimensions} ${input.vectors}\n`);
  const { pending } = state;
  for (const kind of [...input.catalog.kinds.values()]
    .filter((k) => k.chunks)
    .sort((a, b) => a.kind.localeCompare(b.kind))) {
    const chunks = kind.chunks!;
    const assets = input.graph.assets.filter((a) => a.kind === kind.kind);
    const live = state.byTable.get(chunks.table) ?? new Map<string, LiveChunk[]>();
    // Vectors apply copies from other rows of the same text (a moved paragraph is not embedded again).
    const embeddedHashes = new Set(
      [...live.values()]
        .flat()
        .filter((c) => c.embedded)
        .map((c) => c.hash),
    );
    for (const asset of assets) {
      const { source, problem } = readSourceText(chunks, propertiesOf(kind, asset), input.registryDir);
      if (problem) {
        diagnostics.push(error(problem.code, asset.source, `${kind.kind} '${asset.id}': ${problem.message}`));
        continue;
      }
      const desired = source ? chunker(source.text, source.format, input.chunking) : [];
      const current = live.get(asset.uuid) ?? [];
      const { writes, moves, deletes } = matchRows(desired, current);
      for (const w of writes) if (input.vectors && embeddedHashes.has(w.hash)) w.reusable = true;
      const rowOf = new Map<number, LiveChunk>();
      for (const c of current) rowOf.set(c.index, c);
      const movedFrom = new Map(moves.map((m) => [m.index, current.find((c) => c.id === m.id)!]));
      const embed: number[] = [];
      let embedTokens = 0;
      for (const chunk of desired) {
        const kept = rowOf.get(chunk.index)?.hash === chunk.hash ? rowOf.get(chunk.index) : movedFrom.get(chunk.index);
        const vectorAfter = kept ? kept.embedded : embeddedHashes.has(chunk.hash);
        if (!input.vectors || vectorAfter) continue;
        const id = kept?.id ?? writes.find((w) => w.index === chunk.index)!.id;
        if (id && pending.has(`${chunks.table}/${id}/${chunk.hash}`)) {
          totals.waiting++;
          continue;
        }
        embed.push(chunk.index);
        embedTokens += chunk.tokenCount;
      }
      const removed = deletes.length;
      const unchanged = desired.length - writes.length - moves.length;
      hash.update(
        `${asset.uuid} ${desired.map((c) => c.hash).join(',')} ${moves.length} ${removed} ${embed.join(',')}\n`,
      );
      totals.changed += writes.length;
      totals.unchanged += unchanged;
      totals.moved += moves.length;
      totals.removed += removed;
      totals.jobs += embed.length;
      totals.tokens += embedTokens;
      if (writes.length === 0 && moves.length === 0 && removed === 0 && embed.length === 0) continue;
      sources.push({
        kind: kind.kind,
        id: asset.id,
        tenant: asset.tenant,
        uuid: asset.uuid,
        sourceTable: kind.table,
        table: chunks.table,
        ownerColumn: chunks.owner,
        total: desired.length,
        writes,
        moves,
        deletes,
        unchanged,
        removed,
        embed,
        embedTokens,
      });
    }
  }
  const embeddingsOff =
    input.embeddings.enabled && input.vectors
      ? undefined
      : 'embeddings are off (--no-embeddings, embeddings.enabled: false, or no pgvector): ' +
        'chunks are written for full-text search, nothing is embedded';
  return {
    sources,
    totals,
    ...(embeddingsOff ? { embeddingsOff } : {}),
    model,
    dimensions,
    hash: hash.digest('hex'),
    diagnostics,
  };
}

/**
 * Desired chunks → live rows: the same text at the same index is unchanged; the same text elsewhere
 * is a move (only its index is written, its vector kept); new text takes over a leftover row or gets
 * a new one; rows left over after that are deleted.
 */
function matchRows(desired: Chunk[], current: LiveChunk[]) {
  const used = new Set<string>();
  const atIndex = new Map(current.map((c) => [c.index, c]));
  const open: Chunk[] = [];
  for (const chunk of desired) {
    const same = atIndex.get(chunk.index);
    if (same && same.hash === chunk.hash) used.add(same.id);
    else open.push(chunk);
  }
  const byHash = new Map<string, LiveChunk[]>();
  for (const c of current) if (!used.has(c.id)) byHash.set(c.hash, [...(byHash.get(c.hash) ?? []), c]);
  const moves: { id: string; index: number }[] = [];
  const fresh: Chunk[] = [];
  for (const chunk of open) {
    const row = byHash.get(chunk.hash)?.find((c) => !used.has(c.id));
    if (row) {
      used.add(row.id);
      moves.push({ id: row.id, index: chunk.index });
    } else fresh.push(chunk);
  }
  const leftover = current.filter((c) => !used.has(c.id)).sort((a, b) => a.index - b.index);
  const writes: ChunkRow[] = fresh.map((chunk) => {
    const reuse = leftover.shift();
    return reuse ? { ...chunk, id: reuse.id } : { ...chunk };
  });
  return { writes, moves, deletes: leftover.map((c) => c.id) };
}

/** The asset's properties by name (the resolver keeps columns by column name). */
function propertiesOf(kind: KindModel, asset: ResolvedAsset): Record<string, unknown> {
  return Object.fromEntries(kind.columns.map((c) => [c.property, asset.row[c.column]]));
}

async function liveChunks(
  db: CommonQueryMethods,
  table: string,
  owner: string,
  ownerTable: string,
  model: string,
  hasVector: boolean,
) {
  const embedded = hasVector
    ? sql.fragment`(embedding IS NOT NULL AND embedding_model = ${model})`
    : sql.fragment`false`;
  // A chunk whose text was edited in the database (not by apply) no longer matches its stored hash: it is
  // planned as changed, so apply writes the registry's text back and its vector is made again.
  const intact = sql.fragment`content_hash = encode(sha256(convert_to(
    ${chunkerVersion} || E'\n' || coalesce(section_title, '') || E'\n' || content, 'UTF8')), 'hex')`;
  const rows = await db.any(sql.type(liveChunk)`
    SELECT id, ${sql.identifier([owner])} AS owner, chunk_index, content_hash, ${embedded} AS embedded,
      ${intact} AS intact
    FROM ${sql.identifier([table])}
    WHERE ${sql.identifier([owner])} IN (SELECT row_id FROM canon_managed_rows WHERE table_name = ${ownerTable})`);
  const byOwner = new Map<string, LiveChunk[]>();
  for (const r of rows) {
    const chunk = r.intact
      ? { id: r.id, index: r.chunk_index, hash: r.content_hash, embedded: r.embedded }
      : { id: r.id, index: r.chunk_index, hash: `edited outside Canon: ${r.content_hash}`, embedded: false };
    const list = byOwner.get(r.owner);
    if (list) list.push(chunk);
    else byOwner.set(r.owner, [chunk]);
  }
  return byOwner;
}

/** Jobs queued, leased or failed for exactly this text, model and dimension: planning them again would add nothing. */
async function pendingJobs(
  db: CommonQueryMethods,
  live: LiveSchema,
  model: string,
  dimensions: number,
): Promise<Set<string>> {
  if (!live.tables.has(jobsTable)) return new Set();
  const keys = await db.anyFirst(sql.type(z.object({ key: z.string() }))`
    SELECT chunk_table || '/' || chunk_id || '/' || content_hash AS key FROM ${sql.identifier([jobsTable])}
    WHERE model = ${model} AND dimensions = ${dimensions} AND state IN ('queued', 'leased', 'failed')`);
  return new Set(keys);
}

import type { DatabasePool, DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import { sql } from '../db/sql.ts';
import type { KindCatalog, KindModel } from '../kinds/model.ts';
import type { TenancyOptions } from '../policies/model.ts';
import { type EmbeddingProvider, ProviderError } from './provider.ts';

export interface SearchOptions {
  query: string;
  limit: number;
  catalog: KindCatalog;
  /** Only these kinds (default: every kind with chunks or full-text search). */
  kinds?: string[];
  /** Search as the application role with this tenant (uuid) set: row-level security decides what is found. */
  tenant?: string;
  tenancy: TenancyOptions;
  model: string;
  /** Embeds the query for vector search; absent: full-text only, with the reason. */
  provider?: EmbeddingProvider;
  /** Why there is no provider, when there is none. */
  providerProblem?: string;
}

export interface SearchHit {
  kind: string;
  /** The asset's id (unique_id). */
  id: string;
  /** For chunk hits: which chunk and its section. */
  chunk?: { index: number; section: string | null };
  text: string;
  score: number;
  /** 1-based rank in each retriever that found it. */
  ranks: { text?: number; vector?: number };
}

export interface SearchResult {
  hits: SearchHit[];
  vector: { used: boolean; reason?: string };
}

/** Reciprocal rank fusion's constant (Cormack et al.): a hit ranked r adds 1/(k + r). */
const rrfK = 60;

const chunkHit = z.object({
  key: z.string(),
  id: z.string(),
  chunk_index: z.number(),
  section_title: z.string().nullable(),
  text: z.string(),
});
const assetHit = z.object({ key: z.string(), id: z.string(), text: z.string() });

/**
 * `canon search`: full-text over chunks and assets' search text, vector similarity over chunks
 * embedded with the configured model (never another model's vectors), fused by reciprocal rank. The
 * query is embedded before any transaction; with a tenant, every query runs as the application role
 * with that tenant set, so row-level security decides what is found.
 */
export async function searchRegistry(pool: DatabasePool, o: SearchOptions): Promise<SearchResult> {
  const kinds = [...o.catalog.kinds.values()].filter(
    (k) => (!o.kinds || o.kinds.includes(k.kind)) && (k.chunks || k.search.length > 0),
  );
  const depth = Math.max(20, o.limit * 4);
  const vectorKinds = kinds.filter((k) => k.chunks);
  let queryVector: number[] | undefined;
  let reason: string | undefined;
  if (vectorKinds.length === 0) reason = 'no kind searched has chunks';
  else if (!(await hasVectorColumn(pool, vectorKinds[0]!.chunks!.table)))
    reason = 'the database has no vector column (no pgvector, or built with --no-embeddings)';
  else if (!o.provider) reason = o.providerProblem ?? 'no embedding provider';
  else {
    try {
      queryVector = (await o.provider.embed([o.query]))[0];
      if (!queryVector) reason = `${o.provider.label} answered without an embedding for the query`;
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      reason = e.message;
    }
  }
  const lists = await pool.transaction(async (tx) => {
    if (o.tenant) await actAsTenant(tx, o.tenancy, o.tenant);
    const text: SearchHit[] = [];
    const vector: SearchHit[] = [];
    const q = sql.fragment`websearch_to_tsquery('english', ${o.query})`;
    for (const kind of kinds) {
      if (kind.chunks) {
        const { c, select } = chunkSql(kind);
        const rows = await tx.any(sql.type(chunkHit)`${select} AND ${c}.search_vector @@ ${q}
          ORDER BY ts_rank_cd(${c}.search_vector, ${q}) DESC, ${c}.id LIMIT ${depth}`);
        text.push(...rows.map((r) => chunkResult(kind, r)));
        if (queryVector) {
          const v = `[${queryVector.join(',')}]`;
          const near = await tx.any(sql.type(
            chunkHit,
          )`${select} AND ${c}.embedding IS NOT NULL AND ${c}.embedding_model = ${o.model}
            ORDER BY ${c}.embedding <=> ${v}::vector, ${c}.id LIMIT ${depth}`);
          vector.push(...near.map((r) => chunkResult(kind, r)));
        }
      }
      if (kind.search.length > 0) {
        const t = sql.identifier([kind.table]);
        const idColumn = kind.columns.find((c) => c.property === 'id')!.column;
        const label = kind.columns.find((c) => c.property === 'name')?.column ?? idColumn;
        const rows = await tx.any(sql.type(assetHit)`
          SELECT 'asset/' || a.id AS key, a.${sql.identifier([idColumn])} AS id,
            a.${sql.identifier([label])}::text AS text
          FROM ${t} AS a WHERE a.deleted_at IS NULL AND a.search_vector @@ ${q}
          ORDER BY ts_rank_cd(a.search_vector, ${q}) DESC, a.id LIMIT ${depth}`);
        text.push(...rows.map((r) => ({ kind: kind.kind, id: r.id, text: r.text, score: 0, ranks: {}, key: r.key })));
      }
    }
    return { text, vector };
  });
  return {
    hits: fuse(lists.text, lists.vector, o.limit),
    vector: queryVector ? { used: true } : { used: false, reason: reason! },
  };
}

function chunkSql(kind: KindModel) {
  const chunks = kind.chunks!;
  const c = sql.identifier(['c']);
  const idColumn = kind.columns.find((col) => col.property === 'id')!.column;
  const select = sql.fragment`
    SELECT 'chunk/' || c.id AS key, s.${sql.identifier([idColumn])} AS id, c.chunk_index, c.section_title,
      c.content AS text
    FROM ${sql.identifier([chunks.table])} AS c
      JOIN ${sql.identifier([kind.table])} AS s ON s.id = c.${sql.identifier([chunks.owner])}
    WHERE s.deleted_at IS NULL`;
  return { c, select };
}

const chunkResult = (kind: KindModel, r: z.infer<typeof chunkHit>): SearchHit & { key: string } => ({
  kind: kind.kind,
  id: r.id,
  chunk: { index: r.chunk_index, section: r.section_title },
  text: r.text,
  score: 0,
  ranks: {},
  key: r.key,
});

/** Each list ranked on its own; a hit's score is the sum over lists of 1 / (60 + rank). */
function fuse(text: SearchHit[], vector: SearchHit[], limit: number): SearchHit[] {
  const byKey = new Map<string, SearchHit>();
  const rank = (list: SearchHit[], which: 'text' | 'vector') => {
    // Lists from several kinds are merged by their own order within each kind: interleave stably.
    list.forEach((hit, i) => {
      const key = (hit as SearchHit & { key: string }).key;
      const entry = byKey.get(key) ?? { ...hit, score: 0, ranks: {} };
      const r = i + 1;
      entry.ranks[which] = r;
      entry.score += 1 / (rrfK + r);
      byKey.set(key, entry);
    });
  };
  rank(text, 'text');
  rank(vector, 'vector');
  return [...byKey.entries()]
    .sort(([ka, a], [kb, b]) => b.score - a.score || ka.localeCompare(kb))
    .slice(0, limit)
    .map(([, hit]) => {
      const { key: _key, ...rest } = hit as SearchHit & { key?: string };
      return rest;
    });
}

/** The application's session: its role, and the tenant as the policies read it (setting or JWT claims). */
async function actAsTenant(tx: DatabaseTransactionConnection, tenancy: TenancyOptions, tenant: string) {
  await tx.query(sql.unsafe`SELECT set_config('role', ${tenancy.appRole}, true)`);
  if (tenancy.mode === 'supabase') {
    await tx.query(
      sql.unsafe`SELECT set_config('request.jwt.claims', ${JSON.stringify({ [tenancy.claim]: tenant })}, true)`,
    );
  } else {
    await tx.query(sql.unsafe`SELECT set_config(${tenancy.setting}, ${tenant}, true)`);
  }
}

async function hasVectorColumn(pool: DatabasePool, table: string): Promise<boolean> {
  return pool.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM pg_attribute
      WHERE attrelid = to_regclass(${table}) AND attname = 'embedding' AND NOT attisdropped) AS ok`);
}

import { createHash } from 'node:crypto';
import type { CommonQueryMethods } from 'slonik';
import { applyIdOf, type CompiledStatement } from '../compile/compile.ts';
import { loadConfig } from '../config/config.ts';
import type { KindCatalog } from '../kinds/model.ts';
import type { LiveSchema } from '../migrate/live.ts';
import type { SchemaOptions } from '../migrate/model.ts';
import { deriveOnRead } from '../plan/canonical.ts';
import type { Plan } from '../plan/model.ts';
import type { RegistryGraph } from '../resolve/graph.ts';
import { compileChunks } from './compile.ts';
import { type ChunkPlan, planChunks } from './plan.ts';
import { summarizeChunks } from './summary.ts';

/**
 * The knowledge part of planning, kept beside the asset plan: chunks and embedding jobs join the plan
 * (its summary, diagnostics and hash) before it is compiled, so apply id and saved plans cover them.
 */
export async function planKnowledge(
  db: CommonQueryMethods,
  plan: Plan,
  input: {
    graph: RegistryGraph;
    catalog: KindCatalog;
    live: LiveSchema;
    dir: string;
    schema: SchemaOptions;
    cacheDir?: string;
  },
): Promise<ChunkPlan> {
  const { config } = loadConfig(input.dir);
  const chunks = await planChunks(db, {
    graph: input.graph,
    catalog: input.catalog,
    live: input.live,
    registryDir: input.dir,
    chunking: config.chunking,
    embeddings: { ...config.embeddings, dimensions: input.schema.dimensions },
    vectors: input.schema.embeddings,
    ...(input.cacheDir ? { cacheDir: input.cacheDir } : {}),
  });
  attachKnowledge(plan, chunks);
  return chunks;
}

/** Chunks join the plan: its summary, its diagnostics, and its hash (a saved plan goes stale when chunks move). */
export function attachKnowledge(plan: Plan, chunks: ChunkPlan): void {
  plan.knowledge = summarizeChunks(chunks);
  plan.diagnostics.push(...chunks.diagnostics);
  deriveOnRead(plan, 'planHash', (before) => createHash('sha256').update(`${before} ${chunks.hash}`).digest('hex'));
}

/** The chunk statements go before the last one, which closes the apply's record. */
export function withKnowledgeStatements(
  statements: CompiledStatement[],
  chunks: ChunkPlan,
  plan: Plan,
  schema: SchemaOptions,
): CompiledStatement[] {
  // No sources, no statements: the apply id (the plan's hash) is then not asked for.
  if (chunks.sources.length === 0) return statements;
  const extra = compileChunks(chunks, { vectors: schema.embeddings, applyId: applyIdOf(plan) });
  if (extra.length === 0) return statements;
  return [...statements.slice(0, -1), ...extra, ...statements.slice(-1)];
}

import type { ChunkPlan } from './plan.ts';

/** What a plan says about knowledge: per source and in total, without the chunks' text (plans are saved as files). */
export interface KnowledgeSummary {
  sources: {
    kind: string;
    id: string;
    tenant: string | null;
    table: string;
    changed: number;
    moved: number;
    unchanged: number;
    removed: number;
    jobs: number;
    tokens: number;
  }[];
  totals: ChunkPlan['totals'];
  model: string;
  dimensions: number;
  embeddingsOff?: string;
}

export function summarizeChunks(plan: ChunkPlan): KnowledgeSummary {
  return {
    sources: plan.sources.map((s) => ({
      kind: s.kind,
      id: s.id,
      tenant: s.tenant,
      table: s.sourceTable,
      changed: s.writes.length,
      moved: s.moves.length,
      unchanged: s.unchanged + s.moves.length,
      removed: s.removed,
      jobs: s.embed.length,
      tokens: s.embedTokens,
    })),
    totals: plan.totals,
    model: plan.model,
    dimensions: plan.dimensions,
    ...(plan.embeddingsOff ? { embeddingsOff: plan.embeddingsOff } : {}),
  };
}

/** Rows apply writes or jobs it enqueues for knowledge: what makes a plan with no asset change still a change. */
export const knowledgeChanges = (s: KnowledgeSummary | undefined) =>
  s ? s.totals.changed + s.totals.moved + s.totals.removed + s.totals.jobs : 0;

/** A count as plans print it: 1,204. */
export const thousands = (x: number) => x.toLocaleString('en-US');
/** A count and its noun, plural unless the count is 1: "1,204 chunks". */
export const pluralCount = (x: number, noun: string) => `${thousands(x)} ${noun}${x === 1 ? '' : 's'}`;

/** "knowledge_sources/x: 3 chunks changed, 197 unchanged; 3 embedding jobs (~1,204 tokens)", then a total. */
export function knowledgeLines(s: KnowledgeSummary | undefined): string[] {
  if (!s) return [];
  const lines = s.sources.map((src) => {
    const moved = src.moved ? ` (${thousands(src.moved)} of them renumbered)` : '';
    const removed = src.removed ? `, ${thousands(src.removed)} removed` : '';
    const parts = [
      `${pluralCount(src.changed, 'chunk')} changed, ${thousands(src.unchanged)} unchanged${moved}${removed}`,
    ];
    if (src.jobs > 0) parts.push(`${pluralCount(src.jobs, 'embedding job')} (~${thousands(src.tokens)} tokens)`);
    return `${src.table}/${src.id}${src.tenant ? ` (tenant ${src.tenant})` : ''}: ${parts.join('; ')}`;
  });
  const t = s.totals;
  if (t.changed + t.moved + t.unchanged + t.removed === 0) return lines;
  const embedding = s.embeddingsOff
    ? s.embeddingsOff
    : t.jobs > 0
      ? `${pluralCount(t.jobs, 'embedding job')} to enqueue (~${thousands(t.tokens)} tokens for ${s.model}); ` +
        "run 'canon embed' after apply"
      : t.waiting > 0
        ? `${pluralCount(t.waiting, 'chunk')} waiting in the embedding queue; run 'canon embed'`
        : `embeddings up to date (${s.model})`;
  lines.push(
    `Knowledge: ${pluralCount(t.changed, 'chunk')} changed, ${thousands(t.unchanged + t.moved)} unchanged` +
      `${t.removed ? `, ${thousands(t.removed)} removed` : ''}; ${embedding}.`,
  );
  return lines;
}

import { sql } from '../db/sql.ts';
import type { DesiredSchema } from '../migrate/model.ts';
import type { AssetChange, Plan } from '../plan/model.ts';
import { stableJson } from '../plan/normalize.ts';
import type { CompiledStatement } from './compile.ts';

/** The tables an asset change writes: its own, and each relation table whose entries differ. */
function tablesWritten(c: AssetChange): string[] {
  const tables = [c.table];
  const before = c.before?.relations ?? {};
  const after = c.after?.relations ?? {};
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = stableJson(c.adopt ? {} : (before[table] ?? {}));
    if (was !== stableJson(after[table] ?? {})) tables.push(table);
  }
  return tables;
}

/**
 * Counting views (persona_analytics) are refreshed at the end of an apply whose writes touch their
 * inputs (the base table or a counted relation), and only then: a refresh rewrites the whole view.
 */
export function analyticsRefreshes(plan: Plan, schema: DesiredSchema): CompiledStatement[] {
  if (schema.views.length === 0 || plan.changes.length === 0) return [];
  const written = new Set(plan.changes.flatMap(tablesWritten));
  return schema.views
    .filter((v) => [v.base.table, ...v.counts.map((c) => c.table)].some((t) => written.has(t)))
    .map((v) => ({
      purpose: `refresh ${v.name}`,
      rows: 0,
      query: sql.unsafe`REFRESH MATERIALIZED VIEW ${sql.identifier([v.name])}`,
    }));
}

/** The refreshes go last but one: after every write, before the apply's record is closed. */
export function withAnalyticsRefresh(
  statements: CompiledStatement[],
  plan: Plan,
  schema: DesiredSchema,
): CompiledStatement[] {
  const refreshes = analyticsRefreshes(plan, schema);
  if (refreshes.length === 0 || statements.length === 0) return statements;
  return [...statements.slice(0, -1), ...refreshes, ...statements.slice(-1)];
}

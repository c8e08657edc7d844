import { sql } from '../db/sql.ts';
import type { DesiredSchema } from '../migrate/model.ts';
import type { AssetChange, Plan } from '../plan/model.ts';
import { stableJson } from '../plan/normalize.ts';
import type { CompiledStatement } from './compile.ts';

const isEmpty = (entries: Record<string, unknown> | undefined) => {
  for (const _ in entries) return false;
  return true;
};

/** Whether an asset change writes `table`: its own, or a relation table whose entries differ. */
function writesTable(c: AssetChange, table: string): boolean {
  if (c.table === table) return true;
  const before = c.adopt ? undefined : c.before?.relations[table];
  const after = c.after?.relations[table];
  // Only one side has entries (a create, an adoption, a delete): no need to serialize the other.
  if (isEmpty(before) || isEmpty(after)) return isEmpty(before) !== isEmpty(after);
  return stableJson(before) !== stableJson(after);
}

/**
 * Counting views (persona_analytics) are refreshed at the end of an apply whose writes touch their
 * inputs (the base table or a counted relation), and only then: a refresh rewrites the whole view.
 * Only the views' input tables are compared, and the search stops at the first change that writes one.
 */
export function analyticsRefreshes(plan: Plan, schema: DesiredSchema): CompiledStatement[] {
  if (schema.views.length === 0 || plan.changes.length === 0) return [];
  return schema.views
    .filter((v) => {
      const inputs = [v.base.table, ...v.counts.map((c) => c.table)];
      return plan.changes.some((c) => inputs.some((t) => writesTable(c, t)));
    })
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

import type { LegacyImport } from './legacy.ts';
import type { Verification } from './verify.ts';

/** A fixed-width table: numbers right-aligned, text left-aligned. */
export function table(head: string[], rows: (string | number)[][]): string {
  const all = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (/^-?\d+$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${all.map(line).join('\n')}\n`;
}

/** The reconciliation report as people read it: per source table, then every skip, merge and coercion. */
export function reconciliationText(result: LegacyImport): string {
  const head = ['source table', 'kind', 'read', 'imported', 'merged', 'skipped', 'unaccounted', 'coerced'];
  const rows = result.summary.map((s) => [
    s.source,
    s.kind,
    s.read,
    s.imported,
    s.merged,
    s.skipped,
    s.unaccounted,
    s.coerced,
  ]);
  const total = (k: 'read' | 'imported' | 'merged' | 'skipped' | 'unaccounted' | 'coerced') =>
    result.summary.reduce((n, s) => n + s[k], 0);
  rows.push([
    'total',
    '',
    total('read'),
    total('imported'),
    total('merged'),
    total('skipped'),
    total('unaccounted'),
    total('coerced'),
  ]);
  let out = table(head, rows);
  const list = (title: string, lines: string[]) => {
    if (lines.length > 0) out += `\n${title}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
  };
  const fates = result.reconciliation.rows;
  list(
    'Unaccounted (exit 1)',
    fates.flatMap((r) => (r.fate.outcome === 'unaccounted' ? [`${r.source} ${r.key}: ${r.fate.reason}`] : [])),
  );
  list(
    'Skipped',
    fates.flatMap((r) => (r.fate.outcome === 'skipped' ? [`${r.source} ${r.key}: ${r.fate.reason}`] : [])),
  );
  list(
    'Merged',
    fates.flatMap((r) =>
      r.fate.outcome === 'merged' ? [`${r.source} ${r.key} → ${r.fate.asset}: ${r.fate.reason}`] : [],
    ),
  );
  list(
    'Coerced',
    result.reconciliation.coercions.map((c) => `${c.source} ${c.key} (${c.asset}) ${c.field}: ${c.reason}`),
  );
  if (result.missingTables.length > 0) list('Tables the source does not have (read as empty)', result.missingTables);
  return out;
}

/** The report for `--report` and `--format json`: versioned like the plan's JSON. */
export function reconciliationJson(result: LegacyImport, extra: Record<string, unknown>) {
  return {
    format_version: '1',
    ...extra,
    complete: result.complete,
    tables: result.summary,
    rows: result.reconciliation.rows.map((r) => ({ source: r.source, key: r.key, ...r.fate })),
    coercions: result.reconciliation.coercions,
    missing_tables: result.missingTables,
  };
}

export function verificationText(v: Verification): string {
  const head = ['source table', 'read', 'skipped', 'expected', 'matching', 'differing', 'missing'];
  let out = table(
    head,
    v.sources.map((s) => [s.source, s.read, s.skipped, s.expected, s.matching, s.differing, s.missing]),
  );
  if (v.problems.length > 0)
    out += `\nDifferences:\n${v.problems.map((p) => `  ${p.asset}: ${p.problem}`).join('\n')}\n`;
  out += v.ok
    ? '\nVerified: every imported row is in the target as the mapping makes it.\n'
    : '\nVerification failed.\n';
  return out;
}

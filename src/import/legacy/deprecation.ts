import { type LegacyMapping, sourceName } from './mapping.ts';

/** A PostgreSQL identifier, quoted (the file is for a person to review and run, so it is text, not a query). */
const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The seed's Phase 4, written never run: rename each consolidated legacy table (every `table` source
 * not marked `deprecate: false`) to `_deprecated_<table>_<yyyy_mm>`, in one transaction.
 */
export function deprecationSql(mapping: LegacyMapping, schema: string, now: Date): string {
  const suffix = `_${now.getUTCFullYear()}_${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  const tables = mapping.sources.filter((s) => s.table && s.deprecate !== false).map((s) => s.table!);
  const lines = [
    `-- Written by canon import --legacy ${mapping.name} on ${now.toISOString().slice(0, 10)}; Canon never runs it.`,
    '-- Review it, keep the renamed tables for the retention period (30 days in the design document),',
    '-- and drop them in a later, separate change.',
    'BEGIN;',
  ];
  for (const table of [...new Set(tables)]) {
    // PostgreSQL cuts names at 63 bytes; the table part is shortened so the date stays.
    const renamed = `_deprecated_${table}`.slice(0, 63 - suffix.length) + suffix;
    lines.push(`ALTER TABLE ${quote(schema)}.${quote(table)} RENAME TO ${quote(renamed)};`);
  }
  lines.push('COMMIT;', '');
  const kept = mapping.sources.filter((s) => s.table && s.deprecate === false).map(sourceName);
  if (kept.length > 0) lines.splice(3, 0, `-- Not renamed (deprecate: false in the mapping): ${kept.join(', ')}.`);
  return lines.join('\n');
}

import { applyLockKey, type CompiledStatement } from '../../compile/compile.ts';

const literal = (value: unknown): string => {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(', ')}]`;
  return `'${String(value).replace(/'/g, "''")}'`;
};

/**
 * The statements apply runs, in order, with their parameters written in as literals so the text can
 * be read (and run by hand). Display only: apply sends the same statements with bind parameters.
 */
export function renderPlanSql(statements: readonly CompiledStatement[]): string {
  if (statements.length === 0) return '-- No changes.\n';
  const out = [
    'BEGIN;',
    `SELECT pg_advisory_xact_lock(${applyLockKey}); -- apply polls pg_try_advisory_xact_lock until --lock-timeout`,
  ];
  for (const s of statements) {
    // Read once: a statement's query is built on each read (see compilePlan).
    const query = s.query;
    const text = query.sql.replace(/\$slonik_(\d+)/g, (_m, n: string) => literal(query.values[Number(n) - 1]));
    out.push(
      `-- ${s.purpose}${s.rows ? ` (${s.rows} row${s.rows === 1 ? '' : 's'})` : ''}`,
      `${text.replace(/\n\s+/g, '\n  ')};`,
    );
  }
  out.push('COMMIT;');
  return out.join('\n') + '\n';
}

import type { DiagnosticCode } from './codes.ts';

export type Severity = 'error' | 'warning';

/** A position in a source file; line and column are 1-based, as editors and compilers print them. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** A user-facing problem. User mistakes are values, never exceptions (Terraform's tfdiags). */
export interface Diagnostic extends SourcePosition {
  severity: Severity;
  code: DiagnosticCode;
  message: string;
}

export function diagnostic(severity: Severity, code: DiagnosticCode, at: SourcePosition, message: string): Diagnostic {
  return { severity, code, file: at.file, line: at.line, column: at.column, message };
}

export const error = (code: DiagnosticCode, at: SourcePosition, message: string) =>
  diagnostic('error', code, at, message);
export const warning = (code: DiagnosticCode, at: SourcePosition, message: string) =>
  diagnostic('warning', code, at, message);

export function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (
    a.line - b.line ||
    a.column - b.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

/** Sorted by file and position, with exact repeats removed (two stages may notice the same thing). */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const sorted = [...list].sort(compareDiagnostics);
  return sorted.filter((d, i) => i === 0 || compareDiagnostics(d, sorted[i - 1]!) !== 0);
}

export const hasErrors = (list: readonly Diagnostic[]) => list.some((d) => d.severity === 'error');

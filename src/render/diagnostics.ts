import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import type { Style } from './style.ts';

/** `path:line:col: error CODE: message`, the shape compilers print and editors link. */
export function formatDiagnostic(d: Diagnostic, style: Style): string {
  const severity = d.severity === 'error' ? style.red('error') : style.yellow('warning');
  return `${style.bold(`${d.file}:${d.line}:${d.column}`)}: ${severity} ${style.dim(d.code)}: ${d.message}`;
}

export interface ValidationSummary {
  files: number;
  assets: number;
  errors: number;
  warnings: number;
}

export function summarize(diagnostics: readonly Diagnostic[], files: number, assets: number): ValidationSummary {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  return { files, assets, errors, warnings: diagnostics.length - errors };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function renderValidationText(
  diagnostics: readonly Diagnostic[],
  summary: ValidationSummary,
  style: Style,
): string {
  const lines = diagnostics.map((d) => formatDiagnostic(d, style));
  const counted = `${plural(summary.assets, 'asset')} in ${plural(summary.files, 'file')}`;
  if (summary.errors > 0)
    lines.push(style.red(`✗ ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')} (${counted})`));
  else
    lines.push(
      style.green(`✓ ${counted} valid`) +
        (summary.warnings > 0 ? style.yellow(`, ${plural(summary.warnings, 'warning')}`) : ''),
    );
  return lines.join('\n') + '\n';
}

/** Machine output: versioned, so scripts can rely on its shape. */
/** A diagnostic as every JSON output writes it (validate's and the plan's): the same fields, in this order. */
export const diagnosticJson = ({ file, line, column, severity, code, message }: Diagnostic) => ({
  file,
  line,
  column,
  severity,
  code,
  message,
});

export function renderValidationJson(diagnostics: readonly Diagnostic[], summary: ValidationSummary): string {
  return (
    JSON.stringify(
      {
        format_version: '1',
        valid: summary.errors === 0,
        summary,
        diagnostics: diagnostics.map(diagnosticJson),
      },
      null,
      2,
    ) + '\n'
  );
}

/** Diagnostics that stop a plan or an apply: every one of them, then what did not happen. */
export function renderBlockingDiagnostics(diagnostics: readonly Diagnostic[], style: Style, nothing: string): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const lines = diagnostics.map((d) => formatDiagnostic(d, style));
  lines.push(style.red(`✗ ${plural(errors, 'error')}, ${plural(diagnostics.length - errors, 'warning')}; ${nothing}`));
  return lines.join('\n') + '\n';
}

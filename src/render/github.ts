import { randomBytes } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { knowledgeChanges, knowledgeLines } from '../embed/summary.ts';
import { hasChanges, type Plan } from '../plan/model.ts';
import type { ValidationSummary } from './diagnostics.ts';
import { maskSecrets } from './mask.ts';
import { risksOf } from './plan/risks.ts';
import { assetTitle } from './plan/text.ts';

/**
 * GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`): a step's output lines
 * that the runner turns into annotations on the pull request's files. Escaping follows the runner's
 * own (actions/toolkit, core/src/command.ts): in the message `%`, CR and LF are percent-encoded; in
 * property values `:` and `,` too, since they separate the properties.
 */
export const escapeData = (text: string) => text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
export const escapeProperty = (text: string) => escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');

export type AnnotationLevel = 'error' | 'warning' | 'notice';

export interface Annotation {
  file?: string;
  line?: number;
  col?: number;
  title?: string;
}

export function workflowCommand(level: AnnotationLevel, message: string, at: Annotation = {}): string {
  const properties = Object.entries(at)
    .filter(([, value]) => value !== undefined && value !== '')
    .map(([key, value]) => `${key}=${escapeProperty(String(value))}`)
    .join(',');
  return `::${level}${properties ? ` ${properties}` : ''}::${escapeData(message)}`;
}

/**
 * Where annotations point: paths relative to the repository root (GITHUB_WORKSPACE), which is not
 * the working directory when canon runs in a subfolder. Diagnostics name files relative to `cwd`.
 */
export interface GithubPaths {
  cwd: string;
  workspace?: string | undefined;
}

function repositoryPath(file: string, paths: GithubPaths): string {
  if (!paths.workspace) return file;
  const path = relative(paths.workspace, resolve(paths.cwd, file));
  return path.startsWith('..') || isAbsolute(path) ? file : path.split(sep).join('/');
}

export const diagnosticCommand = (d: Diagnostic, paths: GithubPaths) =>
  workflowCommand(d.severity, d.message, {
    file: repositoryPath(d.file, paths),
    line: d.line,
    col: d.column,
    title: `Canon ${d.code}`,
  });

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `canon validate --format github`: one annotation per diagnostic, then the summary as a plain log line. */
export function renderValidationGithub(
  diagnostics: readonly Diagnostic[],
  summary: ValidationSummary,
  paths: GithubPaths,
): string {
  const lines = diagnostics.map((d) => diagnosticCommand(d, paths));
  const counted = `${plural(summary.assets, 'asset')} in ${plural(summary.files, 'file')}`;
  lines.push(
    summary.errors > 0
      ? `✗ ${plural(summary.errors, 'error')}, ${plural(summary.warnings, 'warning')} (${counted})`
      : `✓ ${counted} valid${summary.warnings > 0 ? `, ${plural(summary.warnings, 'warning')}` : ''}`,
  );
  return lines.join('\n') + '\n';
}

/** The runner shows only so many annotations per step; the rest would be noise in the log. */
export const maxChangeNotices = 50;

/**
 * Text the runner must not read as commands (registry content, a plan): between `::stop-commands::`
 * and its token, a line such as `::add-mask::` or `::error::` written in a prompt is only text.
 */
export function verbatim(text: string, token = randomBytes(16).toString('hex')): string {
  return `::stop-commands::${token}\n${text.endsWith('\n') ? text : `${text}\n`}::${token}::\n`;
}

/**
 * `canon plan --format github`: the plan's risks as warnings, each changed asset as a notice on the
 * line that defines it (capped), then the text plan folded in a log group.
 */
export function renderPlanGithub(
  plan: Plan,
  planText: string,
  paths: GithubPaths,
  diagnostics: readonly Diagnostic[] = [],
): string {
  const out = diagnostics.map((d) => diagnosticCommand(d, paths));
  for (const risk of risksOf(plan)) {
    const shown = risk.items.slice(0, 10).join('; ');
    const more = risk.items.length > 10 ? `; and ${risk.items.length - 10} more` : '';
    const hint = risk.hint ? ` (${risk.hint})` : '';
    out.push(workflowCommand('warning', `${risk.title}: ${shown}${more}${hint}`, { title: 'Canon plan' }));
  }
  const located = plan.changes.filter((c) => c.source);
  for (const c of located.slice(0, maxChangeNotices)) {
    const verb =
      c.action === 'create'
        ? 'created'
        : c.restore
          ? 'restored'
          : c.adopt
            ? 'taken over and updated'
            : c.drift
              ? 'updated, overwriting drift'
              : 'updated';
    const fields = c.fields.map((f) => f.path);
    const what =
      fields.length > 0 && c.action === 'update'
        ? `: ${fields.slice(0, 8).join(', ')}${fields.length > 8 ? ', …' : ''}`
        : '';
    out.push(
      workflowCommand('notice', `${assetTitle(c)} will be ${verb}${what}`, {
        file: repositoryPath(c.source!.file, paths),
        line: c.source!.line,
        col: c.source!.column,
        title: 'Canon plan',
      }),
    );
  }
  if (located.length > maxChangeNotices) {
    const rest = located.length - maxChangeNotices;
    const message = `${rest} more changed assets are not annotated; the plan below lists all of them`;
    out.push(workflowCommand('notice', message, { title: 'Canon plan' }));
  }
  const s = plan.summary;
  // The same test as --detailed-exitcode: knowledge work alone (chunks to write, jobs to enqueue) is a change.
  const changed = hasChanges(plan);
  const knowledge = knowledgeChanges(plan.knowledge) > 0 ? ` ${knowledgeLines(plan.knowledge).at(-1)}` : '';
  out.push(
    changed
      ? `Canon plan (${plan.database}): ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ` +
          `${s.unchanged} unchanged, ${plural(plan.schema.length, 'schema and policy change')}.${knowledge}`
      : `No changes: ${plan.database} matches the registry (${plural(s.unchanged, 'asset')}).`,
  );
  // Workflow logs are read by more people than the repository's secrets (public repositories: anyone).
  if (!changed) return maskSecrets(out.join('\n') + '\n');
  return maskSecrets(`${out.join('\n')}\n::group::The plan\n${verbatim(planText)}::endgroup::\n`);
}

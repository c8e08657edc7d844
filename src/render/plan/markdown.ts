import { knowledgeLines } from '../../embed/summary.ts';
import { describeSchemaChange, driftNote, isPolicyChange, widensNote } from '../../migrate/changes.ts';
import { type AssetChange, type FieldChange, hasChanges, type Plan } from '../../plan/model.ts';
import { maskSecrets } from '../mask.ts';
import { hunks, isMultiline, lineDiff, textLines } from './line-diff.ts';
import { type Risk, risksOf } from './risks.ts';
import { assetTitle, driftText, valueText } from './text.ts';

/**
 * GitHub refuses comments over 65,536 characters. The head (target, summary, risks, tables) is
 * bounded on its own; per-asset sections fill up to this budget, then a footer counts the rest.
 */
export const markdownBudget = 60_000;
/** Each of the schema and policy lists in the head stays under this, however many changes there are. */
const listBudget = 12_000;
/** One field's text diff longer than this is cut, so one long prompt cannot crowd out every other asset. */
const fieldBudget = 6_000;
/** Risk items named inline before "and N more". */
const riskItemsShown = 10;

export interface MarkdownOptions {
  /** The database schema planned against, shown with the database (default: the plan's own). */
  schema?: string;
  /** Where the full plan can be read (a CI run with the JSON plan as an artifact), for the truncation footer. */
  fullPlanUrl?: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const symbol = { create: '+', update: '~', delete: '-' } as const;
const cell = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|').replace(/\n/g, ' ');
const fence = (text: string) => '```' + (text.includes('```') ? '\u200b' : '');
/** Inline code that survives backticks in the text. */
const code = (text: string) => (text.includes('`') ? `\`\` ${text} \`\`` : `\`${text}\``);

/** What the plan is for: the database's label (never a password) and the schema. */
export const planTarget = (plan: Pick<Plan, 'database' | 'databaseSchema'>, schema = plan.databaseSchema) =>
  `${plan.database}${schema ? ` (schema ${schema})` : ''}`;

/**
 * The hidden first line that identifies the comment of one target, so a workflow finds and updates it
 * in place. What could end the HTML comment early is percent-encoded.
 */
export const planMarker = (target: string) =>
  `<!-- canon-plan: ${maskSecrets(target).replace(/[<>]/g, encodeURIComponent).replace(/--/g, '-%2D')} -->`;

function capped(body: string, max: number): string {
  if (body.length <= max) return body;
  const cut = body.lastIndexOf('\n', max);
  const kept = body.slice(0, cut > 0 ? cut : max);
  const dropped = body
    .slice(kept.length)
    .split('\n')
    .filter((l) => l !== '').length;
  return `${kept}\n… ${dropped} more lines not shown`;
}

function fieldMarkdown(f: FieldChange, action: AssetChange['action']): string {
  if (isMultiline(f.before) || isMultiline(f.after)) {
    const lines =
      action === 'create'
        ? textLines(String(f.after)).map((l) => `+ ${l}`)
        : hunks(lineDiff(String(f.before ?? ''), String(f.after ?? ''))).map((l) =>
            l.op === '…' ? `@@ ${l.text} @@` : `${l.op} ${l.text}`,
          );
    const body = lines.join('\n');
    const shown = capped(body, fieldBudget);
    return `\`${f.path}\`\n\n${fence(shown)}diff\n${shown.replace(/```/g, '`\u200b``')}\n\`\`\`\n`;
  }
  if (action === 'create') return `| \`${cell(f.path)}\` | ${cell(valueText(f.after, 200))} |`;
  const side = (v: unknown, absent: boolean) => (absent ? '(absent)' : cell(valueText(v, 200)));
  return `| \`${cell(f.path)}\` | ${side(f.before, f.absent === 'before')} | ${side(f.after, f.absent === 'after')} |`;
}

function details(c: AssetChange): string {
  const where = c.source ? ` — \`${c.source.file}:${c.source.line}\`` : '';
  const table = c.fields.filter((f) => !(isMultiline(f.before) || isMultiline(f.after)));
  const texts = c.fields.filter((f) => isMultiline(f.before) || isMultiline(f.after));
  const parts = [`<details><summary><code>${symbol[c.action]}</code> ${assetTitle(c)}${where}</summary>\n`];
  const header =
    c.action === 'create' ? '| field | value |\n|---|---|\n' : '| field | before | after |\n|---|---|---|\n';
  if (c.drift) parts.push(`⚠️ ${cell(driftText(c))}; apply overwrites it.\n`);
  if (c.action === 'delete') parts.push(`Row \`${c.uuid}\` of \`${c.table}\`, no longer in the registry.\n`);
  if (table.length > 0) parts.push(header + table.map((f) => fieldMarkdown(f, c.action)).join('\n') + '\n');
  for (const f of texts) parts.push(fieldMarkdown(f, c.action));
  parts.push('</details>\n');
  return parts.join('\n');
}

/** GitHub's CAUTION alert, one bullet per risk, each naming the first few things it touches. */
function riskBlock(risks: Risk[]): string[] {
  if (risks.length === 0) return [];
  const lines = ['> [!CAUTION]', '> **Review before merging:**'];
  for (const r of risks) {
    const shown = r.items.slice(0, riskItemsShown).join('; ');
    const more = r.items.length > riskItemsShown ? `; and ${r.items.length - riskItemsShown} more` : '';
    const hint = r.hint ? ` — ${r.hint.replace(/--[a-z-]+/g, (flag) => `\`${flag}\``)}` : '';
    lines.push(`> - **${r.title}**: ${cell(shown)}${more}${hint}`);
  }
  return [...lines, ''];
}

/** Items until the list would pass its budget, then a count of the rest. */
function boundedList(items: string[], budget: number): string[] {
  const out: string[] = [];
  let used = 0;
  for (const item of items) {
    if (used + item.length + 1 > budget) break;
    out.push(item);
    used += item.length + 1;
  }
  return out.length < items.length ? [...out, `- … ${items.length - out.length} more`] : out;
}

/**
 * A pull-request comment for a reviewer in a hurry: the hidden marker, the target, the summary and
 * the risks first; then the kind × action table, the schema and policy changes, and one collapsible
 * section per asset, truncated with counts. Values that look like credentials are masked.
 */
export function renderPlanMarkdown(plan: Plan, options: MarkdownOptions = {}): string {
  const s = plan.summary;
  const databaseSchema = options.schema ?? plan.databaseSchema;
  const target = planTarget(plan, databaseSchema);
  const where = `${code(plan.database)}${databaseSchema ? ` · schema ${code(databaseSchema)}` : ''}`;
  const head: string[] = [planMarker(target)];
  const knowledge = knowledgeLines(plan.knowledge);
  if (!hasChanges(plan)) {
    // One short line: a comment with nothing to review stays quiet (embedding work left is not a change).
    head.push(`**Canon plan** for ${where}: no changes (${s.unchanged} assets match the registry).`);
    return maskSecrets(head.join('\n')) + '\n';
  }
  const schema = plan.schema.filter((c) => !isPolicyChange(c));
  const policies = plan.schema.filter(isPolicyChange);
  head.push(`### Canon plan for ${where}`, '');
  head.push(
    `**${s.create}** to create, **${s.update}** to update, **${s.delete}** to delete, ${s.unchanged} unchanged` +
      (schema.length ? ` · ${plural(schema.length, 'schema change')}` : '') +
      (policies.length ? ` · ${plural(policies.length, 'policy change')}` : ''),
    '',
  );
  head.push(...riskBlock(risksOf(plan)));
  if (knowledge.length > 0) {
    const shown =
      knowledge.length > 51
        ? [...knowledge.slice(0, 50), `… ${knowledge.length - 51} more sources`, knowledge.at(-1)!]
        : knowledge;
    head.push('<details><summary>Knowledge chunks and embedding jobs</summary>\n');
    head.push(...shown.map((l) => `- ${l}`), '\n</details>\n');
  }
  const kinds = [...new Set(plan.changes.map((c) => c.kind))].sort();
  if (kinds.length > 0) {
    head.push('| kind | create | update | delete |', '|---|---:|---:|---:|');
    for (const k of kinds) {
      const n = (a: AssetChange['action']) => plan.changes.filter((c) => c.kind === k && c.action === a).length;
      head.push(`| ${k} | ${n('create')} | ${n('update')} | ${n('delete')} |`);
    }
    head.push('');
  }
  for (const [title, list] of [
    ['Schema changes', schema],
    ['Row-level security and privileges', policies],
  ] as const) {
    if (list.length === 0) continue;
    const items = list.map((c) => {
      const flags =
        `${c.destructive ? '**destructive** ' : ''}${'widens' in c && c.widens ? '**widens access** ' : ''}` +
        `${'drift' in c && c.drift ? '**drift** ' : ''}`;
      return `- ${flags}${describeSchemaChange(c).replace(widensNote, '').replace(driftNote, '')}`;
    });
    head.push(`<details><summary>${title} (${list.length})</summary>\n`, ...boundedList(items, listBudget));
    head.push('\n</details>\n');
  }
  let text = maskSecrets(head.join('\n') + '\n');
  let shown = 0;
  for (const c of plan.changes) {
    const section = maskSecrets(details(c));
    if (text.length + section.length > markdownBudget) break;
    text += section + '\n';
    shown++;
  }
  if (shown < plan.changes.length) {
    const rest = plan.changes.slice(shown);
    const n = (a: AssetChange['action']) => rest.filter((c) => c.action === a).length;
    const full = options.fullPlanUrl ? `the JSON plan uploaded by [this run](${options.fullPlanUrl}), or ` : '';
    const counts = `${n('create')} create, ${n('update')} update, ${n('delete')} delete`;
    text +=
      `\n… ${rest.length} more changes not shown (${counts})` +
      ` to stay under GitHub's comment size; all of them are in ${full}\`canon plan --format json\`.\n`;
  }
  return text;
}

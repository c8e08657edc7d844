import { knowledgeLines } from '../../embed/summary.ts';
import { hasChanges } from '../../plan/model.ts';
import { describeSchemaChange, driftNote, isPolicyChange, widensNote } from '../../migrate/changes.ts';
import type { AssetChange, FieldChange, Plan } from '../../plan/model.ts';
import { hunks, isMultiline, lineDiff } from './line-diff.ts';
import { assetTitle, valueText } from './text.ts';

/** GitHub refuses comments over 65,536 characters; stay well under, with room for the footer. */
export const markdownBudget = 60_000;

const symbol = { create: '+', update: '~', delete: '-' } as const;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const fence = (text: string) => '```' + (text.includes('```') ? '\u200b' : '');

function fieldMarkdown(f: FieldChange, action: AssetChange['action']): string {
  if (isMultiline(f.before) || isMultiline(f.after)) {
    const lines = action === 'create' ? String(f.after).split('\n').map((l) => `+ ${l}`) : hunks(lineDiff(String(f.before ?? ''), String(f.after ?? ''))).map((l) => (l.op === '…' ? `@@ ${l.text} @@` : `${l.op} ${l.text}`));
    const body = lines.join('\n');
    return `\`${f.path}\`\n\n${fence(body)}diff\n${body.replace(/```/g, '`\u200b``')}\n\`\`\`\n`;
  }
  if (action === 'create') return `| \`${cell(f.path)}\` | ${cell(valueText(f.after, 200))} |`;
  return `| \`${cell(f.path)}\` | ${cell(valueText(f.before, 200))} | ${cell(valueText(f.after, 200))} |`;
}

function details(c: AssetChange): string {
  const where = c.source ? ` — \`${c.source.file}:${c.source.line}\`` : '';
  const table = c.fields.filter((f) => !(isMultiline(f.before) || isMultiline(f.after)));
  const texts = c.fields.filter((f) => isMultiline(f.before) || isMultiline(f.after));
  const parts = [`<details><summary><code>${symbol[c.action]}</code> ${assetTitle(c)}${where}</summary>\n`];
  const header = c.action === 'create' ? '| field | value |\n|---|---|\n' : '| field | before | after |\n|---|---|---|\n';
  if (c.action === 'delete') parts.push(`Row \`${c.uuid}\` of \`${c.table}\`, no longer in the registry.\n`);
  if (table.length > 0) parts.push(header + table.map((f) => fieldMarkdown(f, c.action)).join('\n') + '\n');
  for (const f of texts) parts.push(fieldMarkdown(f, c.action));
  parts.push('</details>\n');
  return parts.join('\n');
}

/** A pull-request comment: a kind × action table, then one collapsible section per asset, truncated with counts. */
export function renderPlanMarkdown(plan: Plan): string {
  const s = plan.summary;
  const head: string[] = ['## Canon plan', ''];
  const knowledge = knowledgeLines(plan.knowledge);
  if (!hasChanges(plan)) {
    head.push(`No changes: the database matches the registry (${s.unchanged} assets).`);
    head.push(...knowledge.slice(-1).map((l) => `\n${l}`));
    return head.join('\n') + '\n';
  }
  if (knowledge.length > 0) {
    const shown = knowledge.length > 51
      ? [...knowledge.slice(0, 50), `… ${knowledge.length - 51} more sources`, knowledge.at(-1)!]
      : knowledge;
    head.push('<details><summary>Knowledge chunks and embedding jobs</summary>\n');
    head.push(...shown.map((l) => `- ${l}`), '\n</details>\n');
  }
  head.push(`**${s.create}** to create, **${s.update}** to update, **${s.delete}** to delete, ${s.unchanged} unchanged${plan.schema.length ? `, ${plan.schema.length} schema changes` : ''}.`, '');
  const kinds = [...new Set(plan.changes.map((c) => c.kind))].sort();
  if (kinds.length > 0) {
    head.push('| kind | create | update | delete |', '|---|---:|---:|---:|');
    for (const k of kinds) {
      const n = (a: AssetChange['action']) => plan.changes.filter((c) => c.kind === k && c.action === a).length;
      head.push(`| ${k} | ${n('create')} | ${n('update')} | ${n('delete')} |`);
    }
    head.push('');
  }
  const destructive = plan.schema.filter((c) => c.destructive);
  if (destructive.length > 0) head.push(`> [!WARNING]\n> ${destructive.length} destructive schema change(s): ${destructive.map((c) => describeSchemaChange(c)).join('; ')}`, '');
  if (s.delete > 0) head.push(`> [!CAUTION]\n> ${s.delete} asset(s) will be deleted (${plan.deleteMode}); apply needs \`--allow-delete\`.`, '');
  const schema = plan.schema.filter((c) => !isPolicyChange(c));
  const policies = plan.schema.filter(isPolicyChange);
  const widening = policies.filter((c) => 'widens' in c && c.widens);
  const plain = (c: (typeof policies)[number]) => describeSchemaChange(c).replace(widensNote, '').replace(driftNote, '');
  if (widening.length > 0) head.push(`> [!IMPORTANT]\n> ${widening.length} policy change(s) widen what tenants can access: ${widening.slice(0, 10).map(plain).join('; ')}${widening.length > 10 ? '; …' : ''}`, '');
  const drift = policies.filter((c) => 'drift' in c && c.drift);
  if (drift.length > 0) head.push(`> [!WARNING]\n> ${drift.length} row-level security object(s) were changed outside Canon (drift) and will be repaired: ${drift.slice(0, 10).map(plain).join('; ')}${drift.length > 10 ? '; …' : ''}`, '');
  for (const [title, list] of [['Schema changes', schema], ['Row-level security and privileges', policies]] as const) {
    if (list.length === 0) continue;
    head.push(`<details><summary>${title} (${list.length})</summary>\n`, ...list.slice(0, 200).map((c) => `- ${c.destructive ? '**destructive** ' : ''}${'widens' in c && c.widens ? '**widens access** ' : ''}${'drift' in c && c.drift ? '**drift** ' : ''}${describeSchemaChange(c).replace(widensNote, '').replace(driftNote, '')}`), ...(list.length > 200 ? [`- … ${list.length - 200} more`] : []), '\n</details>\n');
  }
  let text = head.join('\n') + '\n';
  let shown = 0;
  for (const c of plan.changes) {
    const section = details(c);
    if (text.length + section.length > markdownBudget) break;
    text += section + '\n';
    shown++;
  }
  if (shown < plan.changes.length) {
    const rest = plan.changes.slice(shown);
    const count = (a: AssetChange['action']) => rest.filter((c) => c.action === a).length;
    text += `\n… ${rest.length} more changes not shown (${count('create')} create, ${count('update')} update, ${count('delete')} delete) to stay under GitHub's comment size; run \`canon plan --format json\` for all of them.\n`;
  }
  return text;
}

import { knowledgeLines } from '../../embed/summary.ts';
import { describeSchemaChange, isPolicyChange } from '../../migrate/changes.ts';
import { exactJson } from '../../plan/exact-json.ts';
import { type AssetChange, type DeleteMode, type FieldChange, hasChanges, type Plan } from '../../plan/model.ts';
import type { Style } from '../style.ts';
import { hunks, isMultiline, lineDiff, textLines } from './line-diff.ts';

const symbol = { create: '+', update: '~', delete: '-' } as const;

export function valueText(v: unknown, max = 120): string {
  if (v === null || v === undefined) return 'null';
  const text = exactJson(v);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** An update that overwrites changes made outside Canon, in words every plan format uses. */
export function driftText(c: Pick<AssetChange, 'drift'>): string {
  if (!c.drift) return '';
  const at = c.drift.updatedAt ? ` at ${c.drift.updatedAt}` : '';
  const paths = c.drift.paths.length > 0 ? `: ${c.drift.paths.join(', ')}` : '';
  return `changed in the database since the last apply${at}${paths}`;
}

export const assetTitle = (c: Pick<AssetChange, 'kind' | 'id' | 'tenant'>) =>
  `${c.kind} ${c.id}${c.tenant ? ` (tenant ${c.tenant})` : ''}`;

/** One field's change as plan lines (indented for the text plan); `canon dev` shows the same lines. */
export function fieldLines(f: FieldChange, action: AssetChange['action'], style: Style): string[] {
  const color = action === 'create' ? style.green : action === 'delete' ? style.red : style.yellow;
  if (action === 'create') {
    if (isMultiline(f.after)) {
      const lines = textLines(f.after);
      return [
        color(`      + ${f.path} = <<EOT`),
        ...lines.slice(0, 6).map((l) => `          ${l}`),
        ...(lines.length > 6 ? [style.dim(`          … ${lines.length - 6} more lines`)] : []),
        '        EOT',
      ];
    }
    return [color(`      + ${f.path} = ${valueText(f.after)}`)];
  }
  if (isMultiline(f.before) || isMultiline(f.after)) {
    const diff = hunks(lineDiff(String(f.before ?? ''), String(f.after ?? '')));
    return [
      color(`      ~ ${f.path}:`),
      ...diff.map((l) =>
        l.op === '+'
          ? style.green(`          + ${l.text}`)
          : l.op === '-'
            ? style.red(`          - ${l.text}`)
            : l.op === '…'
              ? style.dim(`          … ${l.text}`)
              : `            ${l.text}`,
      ),
    ];
  }
  if (f.absent === 'after') return [style.red(`      - ${f.path} = null`)];
  if (f.before === null) return [style.green(`      + ${f.path} = ${valueText(f.after)}`)];
  if (f.after === null) return [style.red(`      - ${f.path} = ${valueText(f.before)}`)];
  return [color(`      ~ ${f.path}: ${valueText(f.before)} → ${valueText(f.after)}`)];
}

/** Terraform-like text: what happens to each asset, field by field; long text as a line diff. */
export function renderPlanText(plan: Plan, style: Style): string {
  return `${[...planTextLines(plan, style)].join('\n')}\n`;
}

/**
 * The text plan line by line, for writing as it is rendered: a plan of 100,000 creates is some 70 MB of
 * text, which as one string (and the array of its lines) cost more memory than the plan itself.
 */
export function* planTextLines(plan: Plan, style: Style): Generator<string> {
  const schema = plan.schema.filter((c) => !isPolicyChange(c));
  const policies = plan.schema.filter(isPolicyChange);
  if (schema.length > 0) {
    yield style.bold('Schema changes:');
    for (const c of schema)
      yield c.destructive
        ? style.red(`  ! ${describeSchemaChange(c)}${'reason' in c && c.reason ? ` (${c.reason})` : ''}`)
        : style.green(`  + ${describeSchemaChange(c)}`);
    yield '';
  }
  if (policies.length > 0) {
    yield style.bold('Row-level security and privileges:');
    for (const c of policies) {
      const alert = ('widens' in c && c.widens) || ('drift' in c && c.drift);
      yield alert ? style.yellow(`  ! ${describeSchemaChange(c)}`) : style.green(`  + ${describeSchemaChange(c)}`);
    }
    yield '';
  }
  for (const c of plan.changes) {
    const where = c.source ? style.dim(` ${c.source.file}:${c.source.line}:${c.source.column}`) : '';
    const verb = changeVerb(c, plan.deleteMode);
    const color = c.action === 'create' ? style.green : c.action === 'delete' ? style.red : style.yellow;
    yield style.bold(`  # ${assetTitle(c)} ${verb}`) + where;
    yield color(`  ${symbol[c.action]} ${c.kind} "${c.id}"`);
    if (c.drift) yield style.yellow(`      ! ${driftText(c)}; apply overwrites it`);
    for (const f of c.fields) yield* fieldLines(f, c.action, style);
    yield '';
  }
  const knowledge = knowledgeLines(plan.knowledge);
  if (knowledge.length > 0 && hasChanges(plan)) {
    for (const line of knowledge) yield style.dim(line);
    yield '';
  }
  // With nothing to do, the knowledge total still says whether embeddings are up to date.
  if (!hasChanges(plan)) {
    yield style.green(planSummaryText(plan));
    for (const line of knowledge.slice(-1)) yield style.dim(line);
  } else yield style.bold(planSummaryText(plan));
}

/** What apply will do to one asset, in the plan's words. */
export function changeVerb(c: AssetChange, deleteMode: DeleteMode): string {
  if (c.action === 'create') return 'will be created';
  if (c.action === 'delete') {
    return deleteMode === 'hard' ? 'will be deleted' : 'will be deleted (soft: deleted_at is set)';
  }
  if (c.restore) return 'will be restored';
  if (c.adopt) return 'will be taken over and updated';
  return c.drift ? 'will be updated in place, overwriting drift' : 'will be updated in place';
}

/** The plan's last line: counts of asset, schema and policy changes, or "No changes". */
/** The database planned against, with its schema when that is not the usual `public`. */
export const targetText = (plan: Pick<Plan, 'database' | 'databaseSchema'>) =>
  plan.databaseSchema && plan.databaseSchema !== 'public'
    ? `${plan.database} (schema ${plan.databaseSchema})`
    : plan.database;

export function planSummaryText(plan: Plan): string {
  const s = plan.summary;
  if (!hasChanges(plan)) return `No changes. ${targetText(plan)} matches the registry (${s.unchanged} assets).`;
  const policies = plan.schema.filter(isPolicyChange);
  const schema = plan.schema.length - policies.length;
  const widens = policies.some((c) => 'widens' in c && c.widens);
  const drift = policies.some((c) => 'drift' in c && c.drift);
  return (
    `Plan: ${s.create} to create, ${s.update} to update, ${s.delete} to delete, ${s.unchanged} unchanged` +
    `${schema ? `; ${schema} schema changes` : ''}${policies.length ? `; ${policies.length} policy changes` : ''}` +
    `${widens ? ' (some widen access)' : ''}${drift ? ' (some repair drift)' : ''}.`
  );
}

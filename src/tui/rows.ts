import type { Diagnostic } from '../diagnostics/diagnostic.ts';
import { knowledgeChanges, knowledgeLines, pluralCount, thousands } from '../embed/summary.ts';
import { describeSchemaChange, isPolicyChange, type SchemaChange } from '../migrate/changes.ts';
import { type AssetChange, hasChanges, type Plan } from '../plan/model.ts';
import { assetTitle, changeVerb, fieldLines, planSummaryText } from '../render/plan/text.ts';
import { plainStyle } from '../render/style.ts';

export type Tone = 'plain' | 'dim' | 'heading' | 'error' | 'warning' | 'create' | 'update' | 'delete';

/** One line of the scrolling body: a diagnostic, a group (kind, schema, policies), an asset, or a detail line. */
export interface Row {
  key: string;
  text: string;
  tone: Tone;
  depth: number;
  /** Groups and assets with fields open and close; their current state. */
  expanded?: boolean;
  severity?: Diagnostic['severity'];
  /** Problems and field changes are read in full: continued on more lines rather than cut at the edge. */
  wraps?: boolean;
}

/** What the body is built from; everything else in the state is about moving through it. */
export interface RowSource {
  diagnostics: readonly Diagnostic[];
  plan: Plan | null;
  /** Why there is no plan, when there is none and the registry has no errors. */
  noPlan: string;
  filter: string;
  /** Keys whose open/closed state differs from the default (kinds open; schema, policies and assets closed). */
  toggled: ReadonlySet<string>;
  /** Files saved during the session, newest first: their problems are listed first. */
  recent: readonly string[];
}

const actionTone = { create: 'create', update: 'update', delete: 'delete' } as const;
const symbol = { create: '+', update: '~', delete: '-' } as const;

export const diagnosticText = (d: Diagnostic) => `${d.file}:${d.line}:${d.column} ${d.code} ${d.message}`;

/** Newest edit first: problems of the most recently saved file lead; otherwise compiler order (file, line). */
export function orderDiagnostics(list: readonly Diagnostic[], recent: readonly string[]): Diagnostic[] {
  const rank = new Map(recent.map((f, i) => [f, i]));
  return list
    .map((d, i) => ({ d, i, r: rank.get(d.file) ?? recent.length }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.d);
}

const matches = (filter: string, ...texts: (string | null | undefined)[]) => {
  const f = filter.toLowerCase();
  return texts.some((t) => t?.toLowerCase().includes(f));
};

/** A field's lines as `canon plan` prints them, with a tone from each line's leading sign. */
function fieldRows(c: AssetChange, key: string): Row[] {
  const rows: Row[] = [];
  c.fields.forEach((f, i) => {
    fieldLines(f, c.action, plainStyle).forEach((line, j) => {
      const text = line.replace(/^ {6}/, '');
      const sign = text.trimStart()[0];
      const tone: Tone =
        sign === '+' ? 'create' : sign === '-' ? 'delete' : sign === '~' ? 'update' : sign === '…' ? 'dim' : 'plain';
      rows.push({ key: `${key}/${i}/${j}`, text, tone, depth: 2, wraps: true });
    });
  });
  return rows;
}

function schemaRows(title: string, key: string, changes: SchemaChange[], source: RowSource): Row[] {
  const shown = source.filter ? changes.filter((c) => matches(source.filter, describeSchemaChange(c))) : changes;
  if (shown.length === 0) return [];
  const expanded = source.toggled.has(key);
  const rows: Row[] = [{ key, text: `${title} (${shown.length})`, tone: 'heading', depth: 0, expanded }];
  if (!expanded) return rows;
  shown.forEach((c, i) => {
    const widens = 'widens' in c && c.widens;
    const sign = c.destructive || widens ? '!' : '+';
    rows.push({
      key: `${key}/${i}`,
      text: `${sign} ${describeSchemaChange(c)}`,
      tone: c.destructive ? 'delete' : widens ? 'warning' : 'create',
      depth: 1,
    });
  });
  return rows;
}

const countsText = (changes: readonly AssetChange[]) =>
  (['create', 'update', 'delete'] as const)
    .map((a) => [a, changes.filter((c) => c.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} to ${a}`)
    .join(', ');

function planRows(plan: Plan, source: RowSource): Row[] {
  const rows: Row[] = [];
  rows.push(
    ...schemaRows(
      'Schema changes',
      'schema',
      plan.schema.filter((c) => !isPolicyChange(c)),
      source,
    ),
  );
  rows.push(...schemaRows('Row-level security and privileges', 'policies', plan.schema.filter(isPolicyChange), source));
  const byKind = new Map<string, AssetChange[]>();
  for (const c of plan.changes) {
    if (source.filter && !matches(source.filter, c.kind, c.id, c.source?.file)) continue;
    const group = byKind.get(c.kind);
    if (group) group.push(c);
    else byKind.set(c.kind, [c]);
  }
  for (const [kind, changes] of byKind) {
    const key = `kind:${kind}`;
    const expanded = !source.toggled.has(key);
    rows.push({ key, text: `${kind} (${countsText(changes)})`, tone: 'heading', depth: 0, expanded });
    if (!expanded) continue;
    for (const c of changes) {
      const assetKey = `asset:${c.table}:${c.uuid}`;
      const open = source.toggled.has(assetKey);
      const where = c.source ? `  ${c.source.file}:${c.source.line}:${c.source.column}` : '';
      // Read once: a new asset's fields are derived on each read (see computePlan).
      const count = c.fields.length;
      const fields = count > 0 ? ` (${count} field${count === 1 ? '' : 's'})` : '';
      const text = `${symbol[c.action]} ${assetTitle(c)} ${changeVerb(c, plan.deleteMode)}${fields}${where}`;
      rows.push({ key: assetKey, text, tone: actionTone[c.action], depth: 1, expanded: open });
      if (open) rows.push(...fieldRows(c, assetKey));
    }
  }
  rows.push(...knowledgeRows(plan, source));
  if (plan.diagnostics.length > 0) {
    plan.diagnostics.forEach((d, i) =>
      rows.push({
        key: `plan-problem:${i}`,
        text: diagnosticText(d),
        tone: 'error',
        depth: 0,
        severity: 'error',
        wraps: true,
      }),
    );
  }
  if (!hasChanges(plan)) rows.push({ key: 'summary', text: planSummaryText(plan), tone: 'dim', depth: 0 });
  return rows;
}

/** The plan's summary line and, when knowledge changes, its chunks and embedding jobs in short. */
export function planHeadline(plan: Plan): string {
  const knowledge = knowledgeHeadline(plan);
  return knowledge ? `${planSummaryText(plan)} ${knowledge}` : planSummaryText(plan);
}

function knowledgeHeadline(plan: Plan): string | undefined {
  if (knowledgeChanges(plan.knowledge) === 0) return undefined;
  const t = plan.knowledge!.totals;
  const parts = [`${pluralCount(t.changed + t.moved, 'chunk')} changed`];
  if (t.removed > 0) parts.push(`${thousands(t.removed)} removed`);
  if (t.jobs > 0) parts.push(`${pluralCount(t.jobs, 'embedding job')} (~${thousands(t.tokens)} tokens)`);
  return `Knowledge: ${parts.join(', ')}.`;
}

/** Chunks and embedding jobs per knowledge source, in `canon plan`'s words, then their total. */
function knowledgeRows(plan: Plan, source: RowSource): Row[] {
  const heading = knowledgeHeadline(plan);
  if (!heading) return [];
  const lines = knowledgeLines(plan.knowledge).slice(0, -1); // the last is the total, said by the heading
  const shown = source.filter ? lines.filter((line) => matches(source.filter, line)) : lines;
  if (shown.length === 0) return [];
  const key = 'knowledge';
  const expanded = !source.toggled.has(key);
  const rows: Row[] = [{ key, text: heading, tone: 'heading', depth: 0, expanded }];
  if (expanded)
    shown.forEach((text, i) => rows.push({ key: `${key}/${i}`, text, tone: 'update', depth: 1, wraps: true }));
  return rows;
}

/** The body: problems (newest edit first), then the plan as kinds → assets → field changes. */
export function buildRows(source: RowSource): Row[] {
  const rows: Row[] = [];
  const shown = orderDiagnostics(source.diagnostics, source.recent).filter(
    (d) => !source.filter || matches(source.filter, d.file),
  );
  if (shown.length > 0) {
    const errors = shown.filter((d) => d.severity === 'error').length;
    const parts = [
      errors > 0 && `${errors} error${errors === 1 ? '' : 's'}`,
      shown.length > errors && `${shown.length - errors} warning${shown.length - errors === 1 ? '' : 's'}`,
    ];
    rows.push({ key: 'problems', text: `Problems: ${parts.filter(Boolean).join(', ')}`, tone: 'heading', depth: 0 });
    shown.forEach((d, i) =>
      rows.push({
        key: `diag:${d.file}:${d.line}:${d.column}:${d.code}:${i}`,
        text: diagnosticText(d),
        tone: d.severity,
        depth: 1,
        severity: d.severity,
        wraps: true,
      }),
    );
  }
  if (source.plan) rows.push(...planRows(source.plan, source));
  else if (source.noPlan) rows.push({ key: 'no-plan', text: source.noPlan, tone: 'dim', depth: 0 });
  return rows;
}

/** Columns a row's text starts at: the cursor mark, the indentation and the open/closed mark. */
export const rowIndent = (row: Row) => 2 + 2 * row.depth + 2;

/** Splits text into lines of at most `width` characters (`next` after the first line), at spaces where it can. */
export function wrapText(text: string, width: number, next = width): string[] {
  const lines: string[] = [];
  let rest = text;
  let room = width;
  while (rest.length > room) {
    const space = rest.lastIndexOf(' ', room);
    const cut = space > room / 2 ? space : room;
    lines.push(rest.slice(0, cut));
    rest = rest.slice(cut).replace(/^ /, '');
    room = next;
  }
  lines.push(rest);
  return lines;
}

/** Rows that wrap, continued on as many lines as the terminal's width needs (continuations are plain rows). */
export function wrapRows(rows: Row[], width: number): Row[] {
  const out: Row[] = [];
  for (const row of rows) {
    const room = width - rowIndent(row) - 2;
    if (!row.wraps || row.text.length <= room || room < 20) {
      out.push(row);
      continue;
    }
    // Continuations line up under the text, after a diff line's indentation and sign.
    const lead = Math.min(/^\s*(?:[-+~…] )?\s*/.exec(row.text)![0].length || 2, room / 2);
    const [first, ...more] = wrapText(row.text, room, room - lead);
    out.push({ ...row, text: first! });
    more.forEach((text, i) =>
      out.push({ key: `${row.key}~${i}`, text: `${' '.repeat(lead)}${text}`, tone: row.tone, depth: row.depth }),
    );
  }
  return out;
}

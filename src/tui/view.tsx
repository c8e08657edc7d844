/** @jsxRuntime automatic @jsxImportSource react */
// (The pragma: canon runs from any folder, where tsx would not find our tsconfig.json's jsx setting.)
import { Box, Static, Text } from 'ink';
import { hasErrors } from '../diagnostics/diagnostic.ts';
import { hasChanges } from '../plan/model.ts';
import { keyBar, keyHelp } from './keys.ts';
import { planHeadline, type Row, type Tone } from './rows.ts';
import { type DevState, type HistoryEntry, type Line, noPlanReason, rowsOf } from './state.ts';

/** Lines around the list: header (2), two rules, status and keys (2); one more for the newest history line. */
export const chromeLines = 7;

type Color = 'red' | 'yellow' | 'green' | 'cyan' | 'gray' | undefined;
const toneColor: Record<Tone, Color> = {
  plain: undefined,
  dim: 'gray',
  heading: 'cyan',
  error: 'red',
  warning: 'yellow',
  create: 'green',
  update: 'yellow',
  delete: 'red',
};

interface Paint {
  colors: boolean;
  width: number;
}

/** One terminal line, never wrapped: the view's height must stay what it was laid out for. */
function Row1({
  text,
  tone,
  bold,
  inverse,
  paint,
}: {
  text: string;
  tone?: Tone;
  bold?: boolean;
  inverse?: boolean;
  paint: Paint;
}) {
  const clipped =
    text.length > paint.width
      ? `${text.slice(0, Math.max(0, paint.width - 1))}…`
      : text.padEnd(inverse ? paint.width : 0);
  const color = paint.colors && tone ? toneColor[tone] : undefined;
  return (
    <Text
      wrap="truncate-end"
      {...(color ? { color } : {})}
      bold={paint.colors && bold === true}
      inverse={paint.colors && inverse === true}
    >
      {clipped || ' '}
    </Text>
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function Header({ state, paint }: { state: DevState; paint: Paint }) {
  const view = state.view;
  const errors = view?.diagnostics.filter((d) => d.severity === 'error').length ?? 0;
  const warnings = (view?.diagnostics.length ?? 0) - errors;
  const db = state.db.state === 'unavailable' ? `${state.database} (unavailable)` : state.database;
  const counts = view
    ? `${plural(view.assets, 'asset')} in ${plural(view.files, 'file')} · ` +
      `${plural(errors, 'error')} · ${plural(warnings, 'warning')}`
    : 'reading…';
  const plan = view?.plan;
  let summary: Line;
  if (plan && !hasErrors(view!.diagnostics))
    summary = { text: planHeadline(plan), tone: hasChanges(plan) ? 'update' : 'create' };
  else summary = { text: noPlanReason(state), tone: errors > 0 ? 'error' : 'dim' };
  return (
    <Box flexDirection="column">
      <Row1
        text={`canon dev · ${state.registry} → ${db} · ${counts}`}
        tone={errors > 0 ? 'error' : 'plain'}
        bold
        paint={paint}
      />
      <Row1 text={summary.text} tone={summary.tone} paint={paint} />
    </Box>
  );
}

function ListRow({ row, selected, paint }: { row: Row; selected: boolean; paint: Paint }) {
  const marker = row.expanded === undefined ? '  ' : row.expanded ? '▾ ' : '▸ ';
  const text = `${selected ? '›' : ' '} ${'  '.repeat(row.depth)}${marker}${row.text}`;
  return <Row1 text={text} tone={row.tone} bold={row.tone === 'heading'} inverse={selected} paint={paint} />;
}

function Body({ state, paint }: { state: DevState; paint: Paint }) {
  const rows = rowsOf(state);
  const visible = rows.slice(state.top, state.top + state.listHeight);
  const filler = Array.from({ length: state.listHeight - visible.length }, (_, i) => (
    <Row1 key={`filler-${i}`} text="" paint={paint} />
  ));
  return (
    <Box flexDirection="column">
      {visible.map((row, i) => (
        <ListRow key={row.key} row={row} selected={state.top + i === state.cursor} paint={paint} />
      ))}
      {filler}
    </Box>
  );
}

function Panel({ lines, height, paint }: { lines: Line[]; height: number; paint: Paint }) {
  const shown =
    lines.length > height
      ? [...lines.slice(0, height - 1), { text: `… ${lines.length - height + 1} more`, tone: 'dim' as Tone }]
      : lines;
  const filler = Array.from({ length: Math.max(0, height - shown.length) }, () => ({
    text: '',
    tone: 'plain' as Tone,
  }));
  return (
    <Box flexDirection="column">
      {[...shown, ...filler].map((l, i) => (
        <Row1 key={i} text={l.text} tone={l.tone} bold={i === 0 && l.tone === 'heading'} paint={paint} />
      ))}
    </Box>
  );
}

function helpLines(): Line[] {
  return [
    { text: 'Keys', tone: 'heading' },
    ...keyHelp.map(([keys, what]) => ({ text: `  ${keys.padEnd(14)}${what}`, tone: 'plain' as Tone })),
    { text: '', tone: 'plain' },
    {
      text: 'Saving a file in the registry re-plans at once, against the database as last read (r reads it again).',
      tone: 'dim',
    },
    { text: 'Press any key to close this help.', tone: 'dim' },
  ];
}

function confirmLines(state: DevState): Line[] {
  if (state.mode.name !== 'confirm') return [];
  const plan = state.mode.plan;
  if (state.mode.step === 'apply') {
    return [
      { text: `Apply this plan to ${state.database}?`, tone: 'heading' },
      { text: `  ${planHeadline(plan)}`, tone: 'plain' },
      { text: '', tone: 'plain' },
      { text: 'Press y to apply it; any other key cancels.', tone: 'warning' },
    ];
  }
  const deletes = plan.changes.filter((c) => c.action === 'delete');
  return [
    {
      text:
        `This plan deletes ${plural(deletes.length, 'asset')}${plan.deleteMode === 'soft' ? ' (soft)' : ''}.` +
        ' Press y again to apply it with these deletes; any other key cancels.',
      tone: 'delete',
    },
    ...deletes.map((c) => ({
      text: `  - ${c.kind} ${c.id}${c.tenant ? ` (tenant ${c.tenant})` : ''}`,
      tone: 'delete' as Tone,
    })),
  ];
}

function Footer({ state, paint }: { state: DevState; paint: Paint }) {
  const busy =
    state.busy === 'applying' ? '◐ applying · ' : state.busy === 'refreshing' ? '◐ reading the database · ' : '';
  const bar =
    state.mode.name === 'filter'
      ? `/ ${state.filter}▏  (enter keeps the filter, esc clears it)`
      : state.mode.name === 'confirm'
        ? 'y confirm · any other key cancels'
        : state.filter
          ? `filter: ${state.filter} (esc clears) · ${keyBar}`
          : keyBar;
  return (
    <Box flexDirection="column">
      <Row1 text={`${busy}${state.status.text}`} tone={state.status.tone} paint={paint} />
      <Row1 text={bar} tone="dim" paint={paint} />
    </Box>
  );
}

const rule = (paint: Paint) => <Row1 text={'─'.repeat(paint.width)} tone="dim" paint={paint} />;

/** The whole screen: history above (printed once each), then a fixed-height live region. */
export function DevView({ state, colors, width }: { state: DevState; colors: boolean; width: number }) {
  const paint: Paint = { colors, width: Math.max(20, width) };
  const middle =
    state.mode.name === 'help' ? (
      <Panel lines={helpLines()} height={state.listHeight} paint={paint} />
    ) : state.mode.name === 'confirm' ? (
      <Panel lines={confirmLines(state)} height={state.listHeight} paint={paint} />
    ) : (
      <Body state={state} paint={paint} />
    );
  return (
    <>
      <Static items={state.history as HistoryEntry[]}>
        {(entry) => (
          <Row1
            key={entry.id}
            text={`${entry.time} ${entry.text}`}
            tone={entry.tone === 'error' ? 'error' : 'dim'}
            paint={paint}
          />
        )}
      </Static>
      <Box flexDirection="column">
        <Header state={state} paint={paint} />
        {rule(paint)}
        {middle}
        {rule(paint)}
        <Footer state={state} paint={paint} />
      </Box>
    </>
  );
}

import { hasErrors } from '../diagnostics/diagnostic.ts';
import { hasChanges, type Plan } from '../plan/model.ts';
import type { KeyPress } from './keys.ts';
import { buildRows, type Row, type Tone, wrapRows } from './rows.ts';
import type { ApplyResult, PlanView } from './session-adapter.ts';

export type DbStatus =
  | { state: 'connecting' }
  | { state: 'ready'; readAt: number }
  | { state: 'unavailable'; message: string; readAt: number | null };

export type Mode =
  | { name: 'browse' }
  | { name: 'filter' }
  | { name: 'help' }
  | { name: 'confirm'; step: 'apply' | 'deletes'; plan: Plan };

export interface SavedFile {
  /** As diagnostics name it (relative to the working directory). */
  file: string;
  /** As the status line names it (relative to the registry folder). */
  name: string;
  change: 'saved' | 'created' | 'deleted';
}

export type ReadReason = 'start' | 'key' | 'changed' | 'applied' | 'settings';

/** Why a re-plan happened: the first read, saved files, or a fresh read of the database. */
export type Trigger =
  | { type: 'start' }
  | { type: 'saved'; files: SavedFile[] }
  | { type: 'read'; ms: number; reason: ReadReason };

export type DevEvent =
  | { type: 'replanned'; view: PlanView; trigger: Trigger; at: number }
  | { type: 'key'; key: KeyPress }
  | { type: 'resize'; listHeight: number; width: number }
  | { type: 'db-unavailable'; message: string; at: number }
  /** The live state read last is out of date: the database changed, or canon.yaml changed the wanted schema. */
  | { type: 'live-stale'; reason: 'changed' | 'settings' }
  | { type: 'applied'; result: ApplyResult; at: number }
  | { type: 'internal-error'; message: string; at: number };

/** Work the reducer asks for; the controller does it and reports back with events. */
export type Effect =
  | { type: 'refresh'; reason: ReadReason }
  | { type: 'apply'; plan: Plan; allowDelete: boolean }
  | { type: 'quit' };

export interface Line {
  text: string;
  tone: Tone;
}
export interface HistoryEntry extends Line {
  id: number;
  time: string;
}

export interface DevState {
  registry: string;
  /** The database's label: a path, memory:, or a URL without its password. */
  database: string;
  view: PlanView | null;
  db: DbStatus;
  busy: 'refreshing' | 'applying' | null;
  mode: Mode;
  filter: string;
  toggled: ReadonlySet<string>;
  recent: readonly string[];
  cursor: number;
  top: number;
  listHeight: number;
  /** The terminal's columns: long problems and field changes wrap to it. */
  width: number;
  status: Line;
  /** What happened, oldest first; shown once each above the view (ink's <Static>). */
  history: readonly HistoryEntry[];
  quitting: boolean;
}

export function initialState(registry: string, database: string, listHeight = 20, width = 100): DevState {
  return {
    registry,
    database,
    view: null,
    db: { state: 'connecting' },
    busy: 'refreshing',
    mode: { name: 'browse' },
    filter: '',
    toggled: new Set(),
    recent: [],
    cursor: 0,
    top: 0,
    listHeight: Math.max(1, listHeight),
    width,
    status: { text: 'Reading the registry…', tone: 'dim' },
    history: [],
    quitting: false,
  };
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const ms = (n: number) => `${Math.round(n)} ms`;
const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

export function noPlanReason(state: DevState): string {
  const { view, db } = state;
  if (view && hasErrors(view.diagnostics))
    return 'No plan while the registry has errors: fix them (e jumps to the next one).';
  if (db.state === 'unavailable') return `No plan: ${db.message}. Press r to try again.`;
  if (db.state === 'connecting') return `Reading the database ${state.database}…`;
  return view ? 'Planning…' : 'Reading the registry…';
}

let memo: { key: unknown[]; rows: Row[] } | null = null;

/** The body's rows for this state (memoized: moving the cursor does not rebuild them). */
export function rowsOf(state: DevState): Row[] {
  const noPlan = noPlanReason(state);
  const key = [state.view, state.filter, state.toggled, state.recent, noPlan, state.width];
  if (memo && memo.key.every((k, i) => k === key[i])) return memo.rows;
  const rows = wrapRows(
    buildRows({
      diagnostics: state.view?.diagnostics ?? [],
      plan: state.view?.plan ?? null,
      noPlan,
      filter: state.filter,
      toggled: state.toggled,
      recent: state.recent,
    }),
    state.width,
  );
  memo = { key, rows };
  return rows;
}

/** Keeps the cursor on a row and the row in the window. */
function fit(state: DevState, cursor = state.cursor): DevState {
  const count = rowsOf(state).length;
  const c = Math.max(0, Math.min(cursor, count - 1));
  let top = Math.min(state.top, c);
  if (c >= top + state.listHeight) top = c - state.listHeight + 1;
  top = Math.max(0, Math.min(top, count - state.listHeight));
  return { ...state, cursor: c, top };
}

/** After the rows changed: the cursor stays on the same row when it still exists. */
function refit(before: DevState, after: DevState): DevState {
  const key = rowsOf(before)[before.cursor]?.key;
  const index = key === undefined ? -1 : rowsOf(after).findIndex((r) => r.key === key);
  return fit(after, index >= 0 ? index : after.cursor);
}

function record(state: DevState, line: Line, at: number): DevState {
  const entry = { ...line, id: state.history.length, time: clock(at) };
  return { ...state, status: line, history: [...state.history, entry] };
}

function outcomeText(view: PlanView): { text: string; tone: Tone } {
  const errors = view.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) return { text: `${plural(errors, 'error')} (checked in ${ms(view.ms)})`, tone: 'error' };
  if (!view.plan) return { text: `checked in ${ms(view.ms)}`, tone: 'plain' };
  const s = view.plan.summary;
  const what = hasChanges(view.plan)
    ? `${s.create} to create, ${s.update} to update, ${s.delete} to delete`
    : 'no changes';
  return { text: `re-planned in ${ms(view.ms)}: ${what}`, tone: 'plain' };
}

function savedText(files: SavedFile[]): string {
  if (files.length === 1) return `${files[0]!.name} ${files[0]!.change}`;
  return `${files.length} files changed`;
}

const readWords: Record<ReadReason, string> = {
  start: 'read',
  key: 'read',
  changed: 'the database changed → read',
  applied: 're-read',
  settings: 'canon.yaml changed the schema → read',
};

function replanned(state: DevState, event: Extract<DevEvent, { type: 'replanned' }>): [DevState, Effect[]] {
  const { view, trigger, at } = event;
  let next: DevState = { ...state, view };
  if (trigger.type === 'saved') {
    const names = trigger.files.map((f) => f.file);
    next.recent = [...new Set([...names.reverse(), ...state.recent])].slice(0, 50);
  }
  if (trigger.type === 'read') next = { ...next, db: { state: 'ready', readAt: at }, busy: null };
  const outcome = outcomeText(view);
  const head =
    trigger.type === 'saved'
      ? savedText(trigger.files)
      : trigger.type === 'read'
        ? `${readWords[trigger.reason]} ${state.database} in ${ms(trigger.ms)}`
        : `read ${plural(view.files, 'file')}`;
  next = record(next, { text: `${head} → ${outcome.text}`, tone: outcome.tone }, at);
  if (next.mode.name === 'confirm' && view.plan?.planHash !== next.mode.plan.planHash) {
    next = {
      ...next,
      mode: { name: 'browse' },
      status: {
        text: 'The plan changed while you were confirming: nothing was applied. Review it and press a again.',
        tone: 'warning',
      },
    };
  }
  return [refit(state, next), []];
}

function applied(state: DevState, result: ApplyResult, at: number): [DevState, Effect[]] {
  const next: DevState = { ...state, busy: null };
  if (result.status === 'applied' || result.status === 'unchanged') {
    const s = result.summary;
    const text =
      result.status === 'unchanged'
        ? 'apply: nothing to do, the database already matched'
        : `applied: ${s.create} created, ${s.update} updated, ${s.delete} deleted` +
          `${result.schemaChanges ? `, ${result.schemaChanges} schema changes` : ''}` +
          ` (${result.statements} statements, ${ms(result.ms)})`;
    const done = record(next, { text, tone: 'create' }, at);
    return done.quitting ? [done, []] : [{ ...done, busy: 'refreshing' }, [{ type: 'refresh', reason: 'applied' }]];
  }
  if (result.status === 'invalid') {
    const n = result.diagnostics.filter((d) => d.severity === 'error').length;
    return [
      record(
        next,
        {
          text: `apply refused: the registry has ${plural(n, 'error')} (the files changed); nothing was changed`,
          tone: 'error',
        },
        at,
      ),
      [],
    ];
  }
  const message = 'message' in result ? result.message : '';
  const done = record(
    next,
    { text: `apply ${result.status === 'refused' ? 'refused' : 'failed'}: ${message}`, tone: 'error' },
    at,
  );
  // A stale plan means the database or the registry moved: read it again so the next plan is current.
  return done.quitting ? [done, []] : [{ ...done, busy: 'refreshing' }, [{ type: 'refresh', reason: 'changed' }]];
}

function startApply(state: DevState): [DevState, Effect[]] {
  const say = (text: string, tone: Tone = 'error'): [DevState, Effect[]] => [{ ...state, status: { text, tone } }, []];
  if (state.busy)
    return say(`Wait: ${state.busy === 'applying' ? 'an apply' : 'a read of the database'} is running.`, 'warning');
  const view = state.view;
  const errors = view?.diagnostics.filter((d) => d.severity === 'error').length ?? 0;
  if (errors > 0)
    return say(`Apply refused: the registry has ${plural(errors, 'error')}. Fix them first (e jumps to the next one).`);
  const plan = view?.plan;
  if (!plan) return say(`Apply refused: there is no plan yet (${noPlanReason(state)})`);
  if (plan.diagnostics.length > 0) return say(`Apply refused: ${plan.diagnostics[0]!.message}`);
  if (!hasChanges(plan)) return say(`Nothing to apply: ${state.database} matches the registry.`, 'plain');
  const destructive = plan.schema.filter((c) => c.destructive).length;
  if (destructive > 0) {
    return say(
      `Apply refused: ${plural(destructive, 'destructive schema change')}. ` +
        'Review them with canon plan; apply them with canon apply --allow-destructive.',
    );
  }
  return [{ ...state, mode: { name: 'confirm', step: 'apply', plan } }, []];
}

function confirmKey(state: DevState, mode: Extract<Mode, { name: 'confirm' }>, key: KeyPress): [DevState, Effect[]] {
  if (key.name !== 'char' || key.char !== 'y' || key.ctrl) {
    return [
      { ...state, mode: { name: 'browse' }, status: { text: 'Apply cancelled; nothing was changed.', tone: 'plain' } },
      [],
    ];
  }
  if (mode.step === 'apply' && mode.plan.summary.delete > 0)
    return [{ ...state, mode: { ...mode, step: 'deletes' } }, []];
  const next: DevState = {
    ...state,
    mode: { name: 'browse' },
    busy: 'applying',
    status: { text: `Applying to ${state.database}…`, tone: 'plain' },
  };
  return [next, [{ type: 'apply', plan: mode.plan, allowDelete: mode.step === 'deletes' }]];
}

function nextError(state: DevState): DevState {
  const rows = rowsOf(state);
  const errors = rows.map((r, i) => (r.severity === 'error' ? i : -1)).filter((i) => i >= 0);
  if (errors.length === 0) return { ...state, status: { text: 'No errors.', tone: 'plain' } };
  const target = errors.find((i) => i > state.cursor) ?? errors[0]!;
  return fit(state, target);
}

function toggle(state: DevState): DevState {
  const row = rowsOf(state)[state.cursor];
  if (!row || row.expanded === undefined) return state;
  const toggled = new Set(state.toggled);
  if (toggled.has(row.key)) toggled.delete(row.key);
  else toggled.add(row.key);
  return fit({ ...state, toggled });
}

function browseKey(state: DevState, key: KeyPress): [DevState, Effect[]] {
  const page = Math.max(1, state.listHeight - 1);
  switch (key.name) {
    case 'up':
      return [fit(state, state.cursor - 1), []];
    case 'down':
      return [fit(state, state.cursor + 1), []];
    case 'pageup':
      return [fit(state, state.cursor - page), []];
    case 'pagedown':
      return [fit(state, state.cursor + page), []];
    case 'home':
      return [fit(state, 0), []];
    case 'end':
      return [fit(state, Number.MAX_SAFE_INTEGER), []];
    case 'enter':
      return [toggle(state), []];
    case 'escape':
      return state.filter ? [refit(state, { ...state, filter: '' }), []] : [state, []];
    case 'char':
      break;
    default:
      return [state, []];
  }
  switch (key.char) {
    case 'k':
      return [fit(state, state.cursor - 1), []];
    case 'j':
      return [fit(state, state.cursor + 1), []];
    case 'g':
      return [fit(state, 0), []];
    case 'G':
      return [fit(state, Number.MAX_SAFE_INTEGER), []];
    case ' ':
      return [toggle(state), []];
    case '/':
      return [{ ...state, mode: { name: 'filter' } }, []];
    case 'e':
      return [nextError(state), []];
    case '?':
      return [{ ...state, mode: { name: 'help' } }, []];
    case 'a':
      return startApply(state);
    case 'q':
      return quit(state);
    case 'r':
      if (state.busy)
        return [
          {
            ...state,
            status: {
              text: `Wait: ${state.busy === 'applying' ? 'an apply' : 'a read of the database'} is running.`,
              tone: 'warning',
            },
          },
          [],
        ];
      return [
        { ...state, busy: 'refreshing', status: { text: `Reading ${state.database}…`, tone: 'plain' } },
        [{ type: 'refresh', reason: 'key' }],
      ];
    default:
      return [state, []];
  }
}

function filterKey(state: DevState, key: KeyPress): [DevState, Effect[]] {
  switch (key.name) {
    case 'enter':
      return [{ ...state, mode: { name: 'browse' } }, []];
    case 'escape':
      return [refit(state, { ...state, mode: { name: 'browse' }, filter: '' }), []];
    case 'backspace':
      return [fit({ ...state, filter: state.filter.slice(0, -1) }, 0), []];
    case 'up':
    case 'down':
    case 'pageup':
    case 'pagedown':
    case 'home':
    case 'end':
      return browseKey(state, key);
    case 'char':
      return key.ctrl ? [state, []] : [fit({ ...state, filter: state.filter + key.char }, 0), []];
    default:
      return [state, []];
  }
}

function quit(state: DevState): [DevState, Effect[]] {
  if (state.quitting) return [state, []];
  const text = state.busy === 'applying' ? 'Quitting when the apply finishes…' : 'Quitting…';
  return [{ ...state, quitting: true, mode: { name: 'browse' }, status: { text, tone: 'plain' } }, [{ type: 'quit' }]];
}

/** The whole view's behaviour as a pure function: an event in, the next state and the work to do out. */
export function step(state: DevState, event: DevEvent): [DevState, Effect[]] {
  switch (event.type) {
    case 'replanned':
      return replanned(state, event);
    case 'resize':
      return [refit(state, { ...state, listHeight: Math.max(1, event.listHeight), width: event.width }), []];
    case 'db-unavailable': {
      const readAt =
        state.db.state === 'ready' ? state.db.readAt : state.db.state === 'unavailable' ? state.db.readAt : null;
      const next: DevState = {
        ...state,
        busy: state.busy === 'refreshing' ? null : state.busy,
        db: { state: 'unavailable', message: event.message, readAt },
      };
      const still = readAt ? `; planning against the state read at ${clock(readAt)}` : '';
      return [
        refit(
          state,
          record(
            next,
            { text: `database unavailable: ${event.message}${still}. Press r to reconnect.`, tone: 'error' },
            event.at,
          ),
        ),
        [],
      ];
    }
    case 'live-stale':
      if (state.busy || state.quitting) return [state, []];
      return [{ ...state, busy: 'refreshing' }, [{ type: 'refresh', reason: event.reason }]];
    case 'applied':
      return applied(state, event.result, event.at);
    case 'internal-error':
      return [
        record(
          { ...state, busy: state.busy === 'refreshing' ? null : state.busy },
          { text: `internal error (please report it): ${event.message}`, tone: 'error' },
          event.at,
        ),
        [],
      ];
    case 'key': {
      const { key } = event;
      if (key.name === 'char' && key.ctrl && key.char === 'c') return quit(state);
      if (state.quitting) return [state, []];
      switch (state.mode.name) {
        case 'help':
          return [{ ...state, mode: { name: 'browse' } }, []];
        case 'confirm':
          return confirmKey(state, state.mode, key);
        case 'filter':
          return filterKey(state, key);
        case 'browse':
          return browseKey(state, key);
      }
    }
  }
}

import { describe, expect, it } from 'vitest';
import { char, type KeyPress } from '../../src/tui/keys.ts';
import { type DevEvent, type DevState, type Effect, initialState, rowsOf, step } from '../../src/tui/state.ts';
import { change, diag, plan, samplePlan, view } from '../support/tui-fixtures.ts';

// The view's behaviour without a terminal: events in, state and requested work out.

const at = Date.UTC(2026, 0, 1, 12, 0, 0);
const ready = (
  p: ReturnType<typeof plan> | null = samplePlan(),
  diagnostics = [] as ReturnType<typeof diag>[],
): DevState =>
  step(initialState('registry', 'memory:', 10), {
    type: 'replanned',
    view: view(p, diagnostics),
    trigger: { type: 'read', ms: 300, reason: 'start' },
    at,
  })[0];

function press(state: DevState, ...keys: (string | KeyPress)[]): [DevState, Effect[]] {
  let effects: Effect[] = [];
  for (const k of keys) {
    const key = typeof k === 'string' ? char(k) : k;
    [state, effects] = step(state, { type: 'key', key });
  }
  return [state, effects];
}

const texts = (s: DevState) => rowsOf(s).map((r) => r.text);
const current = (s: DevState) => rowsOf(s)[s.cursor]!.text;

describe('canon dev state: moving, expanding, filtering', () => {
  it("lists kinds → assets in canon plan's words; enter shows an asset's field changes, text as a line diff", () => {
    let s = ready();
    expect(texts(s)).toEqual([
      'Agent (1 to update)',
      '~ Agent msl-copilot will be updated in place (2 fields)  registry/platform/agents.yaml:2:5',
      'Prompt (1 to create)',
      '+ Prompt new-summary will be created (1 field)  registry/platform/prompts.yaml:2:5',
      'Tool (1 to delete)',
      '- Tool old-search will be deleted (soft: deleted_at is set)',
    ]);
    [s] = press(s, 'j');
    expect(current(s)).toMatch(/^~ Agent msl-copilot/);
    [s] = press(s, { name: 'enter' });
    expect(texts(s).slice(2, 8)).toEqual([
      '~ model_config.temperature: 0.2 → 0.3',
      '~ system_prompt:',
      '      You are helpful.',
      '    - Cite sources.',
      '    + Cite every source.',
      '      Be brief.',
    ]);
    [s] = press(s, ' ');
    expect(texts(s)[2]).toBe('Prompt (1 to create)');
  });

  it('moves with arrows and j/k, stays inside the list, and scrolls the window with the cursor', () => {
    let s = step(ready(), { type: 'resize', listHeight: 3, width: 100 })[0];
    [s] = press(s, { name: 'up' }, 'k');
    expect(s.cursor).toBe(0);
    [s] = press(s, { name: 'down' }, 'j', 'j', 'j');
    expect(s.cursor).toBe(4);
    expect(s.top).toBe(2);
    [s] = press(s, 'G');
    expect(s.cursor).toBe(5);
    [s] = press(s, 'j');
    expect(s.cursor).toBe(5);
    [s] = press(s, 'g');
    expect([s.cursor, s.top]).toEqual([0, 0]);
  });

  it('collapses a kind with enter and opens it again', () => {
    let s = ready();
    [s] = press(s, { name: 'enter' });
    expect(texts(s)[0]).toBe('Agent (1 to update)');
    expect(texts(s)[1]).toBe('Prompt (1 to create)');
    [s] = press(s, { name: 'enter' });
    expect(texts(s)[1]).toMatch(/^~ Agent msl-copilot/);
  });

  it('filters by kind, id or file as you type; esc clears the filter', () => {
    let s = ready();
    [s] = press(s, '/', 'p', 'r', 'o', 'm');
    expect(s.mode.name).toBe('filter');
    expect(texts(s)).toEqual([
      'Prompt (1 to create)',
      '+ Prompt new-summary will be created (1 field)  registry/platform/prompts.yaml:2:5',
    ]);
    [s] = press(
      s,
      { name: 'backspace' },
      { name: 'backspace' },
      { name: 'backspace' },
      { name: 'backspace' },
      'o',
      'l',
      'd',
    );
    expect(texts(s)).toEqual(['Tool (1 to delete)', '- Tool old-search will be deleted (soft: deleted_at is set)']);
    [s] = press(s, { name: 'enter' });
    expect(s.mode.name).toBe('browse');
    expect(s.filter).toBe('old');
    [s] = press(s, 'q');
    expect(s.quitting).toBe(true);
    [s] = press(ready(), '/', 'a', 'g', 'e', 'n', 't', 's', '.', 'y', 'a', 'm', 'l');
    expect(texts(s)).toHaveLength(2);
    [s] = press(s, { name: 'escape' });
    expect(s.filter).toBe('');
    expect(texts(s)).toHaveLength(6);
  });

  it('lists problems as file:line:col CODE message, the last saved file first; e jumps from error to error', () => {
    const problems = [
      diag('registry/a.yaml', 3, 'CANON203', "unknown field 'nmae'. Did you mean 'name'?"),
      diag('registry/b.yaml', 9, 'CANON302', "no Prompt with id 'x' is visible to the platform registry", 'error'),
      diag('registry/c.yaml', 1, 'CANON108', 'empty file', 'warning'),
    ];
    let s = ready(null, problems);
    expect(texts(s)).toEqual([
      'Problems: 2 errors, 1 warning',
      "registry/a.yaml:3:3 CANON203 unknown field 'nmae'. Did you mean 'name'?",
      "registry/b.yaml:9:3 CANON302 no Prompt with id 'x' is visible to the platform registry",
      'registry/c.yaml:1:3 CANON108 empty file',
      'No plan while the registry has errors: fix them (e jumps to the next one).',
    ]);
    const saved: DevEvent = {
      type: 'replanned',
      view: view(null, problems),
      at,
      trigger: {
        type: 'saved',
        files: [
          { file: 'registry/c.yaml', name: 'c.yaml', change: 'saved' },
          { file: 'registry/b.yaml', name: 'b.yaml', change: 'saved' },
        ],
      },
    };
    [s] = step(s, saved);
    expect(
      texts(s)
        .slice(1, 4)
        .map((t) => t.split(' ')[0]),
    ).toEqual(['registry/b.yaml:9:3', 'registry/c.yaml:1:3', 'registry/a.yaml:3:3']);
    expect(s.status).toEqual({ text: '2 files changed → 2 errors (checked in 84 ms)', tone: 'error' });
    [s] = press(s, 'e');
    expect(current(s)).toMatch(/^registry\/b.yaml/);
    [s] = press(s, 'e');
    expect(current(s)).toMatch(/^registry\/a.yaml/);
    [s] = press(s, 'e');
    expect(current(s)).toMatch(/^registry\/b.yaml/);
    [s] = press(ready(), 'e');
    expect(s.status.text).toBe('No errors.');
  });

  it("continues a long problem on more lines at the terminal's width instead of cutting off its did-you-mean", () => {
    const long = diag(
      'registry/platform/agents.yaml',
      29,
      'CANON302',
      "no Prompt with id 'literature-sumary' is visible to the platform registry. Did you mean 'literature-summary'?",
    );
    let s = step(ready(null, [long]), { type: 'resize', listHeight: 10, width: 60 })[0];
    expect(texts(s).slice(1, 5)).toEqual([
      'registry/platform/agents.yaml:29:3 CANON302 no',
      "  Prompt with id 'literature-sumary' is visible to",
      '  the platform registry. Did you mean',
      "  'literature-summary'?",
    ]);
    expect(rowsOf(s).every((r) => 2 + 2 * r.depth + 2 + r.text.length <= 60 || !r.key.startsWith('diag'))).toBe(true);
    [s] = press(s, 'G', 'e');
    expect(current(s)).toBe('registry/platform/agents.yaml:29:3 CANON302 no');
  });

  it('continues a long line of a text diff under its text, after the sign', () => {
    const long = plan([
      change('update', 'Prompt', 'p', [
        {
          path: 'content',
          segments: ['content'],
          before: 'Intro.\nCite sources.',
          after: 'Intro.\nCite every source with its DOI and the date it was retrieved.',
        },
      ]),
    ]);
    let s = step(ready(long), { type: 'resize', listHeight: 10, width: 60 })[0];
    [s] = press(s, 'j', { name: 'enter' });
    expect(texts(s).slice(2)).toEqual([
      '~ content:',
      '      Intro.',
      '    - Cite sources.',
      '    + Cite every source with its DOI and the date',
      '      it was retrieved.',
    ]);
  });

  it('keeps the cursor on the same asset when a save re-plans and rows move', () => {
    let s = ready();
    [s] = press(s, 'j', 'j', 'j');
    expect(current(s)).toMatch(/new-summary/);
    const more = plan([change('create', 'Agent', 'another'), ...samplePlan().changes]);
    [s] = step(s, {
      type: 'replanned',
      view: view(more),
      trigger: { type: 'saved', files: [{ file: 'registry/a.yaml', name: 'a.yaml', change: 'saved' }] },
      at,
    });
    expect(current(s)).toMatch(/new-summary/);
    expect(s.status.text).toBe('a.yaml saved → re-planned in 84 ms: 2 to create, 1 to update, 1 to delete');
    expect(s.history.at(-1)).toMatchObject({ text: s.status.text, time: expect.stringMatching(/^\d\d:\d\d:\d\d$/) });
  });

  it('shows help on ?, and any key closes it', () => {
    let s = ready();
    [s] = press(s, '?');
    expect(s.mode.name).toBe('help');
    [s] = press(s, 'x');
    expect(s.mode.name).toBe('browse');
  });
});

describe('canon dev state: apply, refresh, quit', () => {
  const onlyUpdates = () =>
    plan([change('update', 'Agent', 'a', [{ path: 'name', segments: ['name'], before: 'A', after: 'B' }])]);

  it('applies only after y; any other key cancels', () => {
    let [s, effects] = press(ready(onlyUpdates()), 'a');
    expect(s.mode).toMatchObject({ name: 'confirm', step: 'apply' });
    expect(effects).toEqual([]);
    [s, effects] = press(s, 'n');
    expect(s.mode.name).toBe('browse');
    expect(s.status.text).toBe('Apply cancelled; nothing was changed.');
    expect(effects).toEqual([]);
    [s, effects] = press(s, 'a', 'y');
    expect(effects).toEqual([{ type: 'apply', plan: onlyUpdates(), allowDelete: false }]);
    expect(s.busy).toBe('applying');
  });

  it('asks a second time when the plan deletes, and only then allows deletes', () => {
    let [s, effects] = press(ready(), 'a', 'y');
    expect(s.mode).toMatchObject({ name: 'confirm', step: 'deletes' });
    expect(effects).toEqual([]);
    [s, effects] = press(s, { name: 'enter' });
    expect(s.mode.name).toBe('browse');
    expect(effects).toEqual([]);
    [s, effects] = press(s, 'a', 'y', 'y');
    expect(effects).toEqual([{ type: 'apply', plan: samplePlan(), allowDelete: true }]);
  });

  it('refuses to apply with errors, without a plan, with nothing to do, or with destructive schema changes', () => {
    const problems = [diag('registry/a.yaml', 3, 'CANON203', 'unknown field')];
    let [s, effects] = press(ready(null, problems), 'a');
    expect([s.mode.name, effects, s.status.text]).toEqual([
      'browse',
      [],
      'Apply refused: the registry has 1 error. Fix them first (e jumps to the next one).',
    ]);
    const lost = step(initialState('registry', 'memory:'), {
      type: 'db-unavailable',
      message: 'connection refused',
      at,
    })[0];
    [s, effects] = press(lost, 'a');
    expect(s.status.text).toBe(
      'Apply refused: there is no plan yet (No plan: connection refused. Press r to try again.)',
    );
    [s] = press(ready(plan([])), 'a');
    expect(s.status.text).toBe('Nothing to apply: memory: matches the registry.');
    const destructive = plan([], {
      schema: [{ kind: 'dropColumn', table: 't', column: 'c', destructive: true, reason: 'data is lost' }],
    });
    [s, effects] = press(ready(destructive), 'a');
    expect(s.status.text).toMatch(/^Apply refused: 1 destructive schema change\. .*--allow-destructive/);
    expect(effects).toEqual([]);
  });

  it('cancels a confirmation when a save changes the plan under it', () => {
    let [s] = press(ready(onlyUpdates()), 'a');
    [s] = step(s, { type: 'replanned', view: view(samplePlan()), trigger: { type: 'saved', files: [] }, at });
    expect(s.mode.name).toBe('browse');
    expect(s.status.text).toMatch(/^The plan changed while you were confirming/);
  });

  it('re-reads the database after an apply, and after a refused (stale) one', () => {
    let [s] = press(ready(onlyUpdates()), 'a', 'y');
    let effects: Effect[];
    [s, effects] = step(s, {
      type: 'applied',
      at,
      result: {
        status: 'applied',
        summary: { create: 0, update: 1, delete: 0, unchanged: 3 },
        schemaChanges: 0,
        statements: 4,
        ms: 90,
      },
    });
    expect(effects).toEqual([{ type: 'refresh', reason: 'applied' }]);
    expect(s.status.text).toBe('applied: 0 created, 1 updated, 0 deleted (4 statements, 90 ms)');
    [s] = step(s, {
      type: 'replanned',
      view: view(plan([])),
      trigger: { type: 'read', ms: 12, reason: 'applied' },
      at,
    });
    expect([s.busy, s.status.text]).toEqual([null, 're-read memory: in 12 ms → re-planned in 84 ms: no changes']);
    [s] = press(s, 'a');
    [s, effects] = step(
      { ...s, busy: 'applying' },
      { type: 'applied', at, result: { status: 'refused', message: 'the plan on screen is out of date' } },
    );
    expect(effects).toEqual([{ type: 'refresh', reason: 'changed' }]);
    expect(s.status).toEqual({ text: 'apply refused: the plan on screen is out of date', tone: 'error' });
  });

  it('r reads the database again; a lost database keeps the view and says what the plan is against', () => {
    let [s, effects] = press(ready(), 'r');
    expect(effects).toEqual([{ type: 'refresh', reason: 'key' }]);
    [s, effects] = press(s, 'r');
    expect(effects).toEqual([]);
    expect(s.status.text).toMatch(/^Wait: a read of the database is running/);
    [s] = step(s, { type: 'db-unavailable', message: 'connection refused by postgres://u:***@h/db', at });
    expect(s.busy).toBeNull();
    expect(s.status.text).toMatch(
      new RegExp(
        '^database unavailable: connection refused by postgres://u:\\*\\*\\*@h/db; ' +
          'planning against the state read at \\d\\d:\\d\\d:\\d\\d\\. Press r to reconnect\\.$',
      ),
    );
    expect(texts(s)[0]).toBe('Agent (1 to update)');
    [s, effects] = step(s, { type: 'live-stale', reason: 'changed' });
    expect(effects).toEqual([{ type: 'refresh', reason: 'changed' }]);
  });

  it('q and Ctrl-C quit from any mode, once', () => {
    for (const keys of [['q'], ['/', char('c', true)], ['a', char('c', true)], ['?', char('c', true)]]) {
      const [s, effects] = press(ready(), ...keys);
      expect(s.quitting).toBe(true);
      expect(effects).toEqual([{ type: 'quit' }]);
      expect(press(s, 'q')[1]).toEqual([]);
    }
    const [typing] = press(ready(), '/', 'q');
    expect([typing.quitting, typing.filter]).toEqual([false, 'q']);
  });
});

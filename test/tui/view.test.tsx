import { cleanup, render } from 'ink-testing-library';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DevApp, type ViewStore } from '../../src/tui/app.tsx';
import { type DevEvent, type DevState, type Effect, initialState, step } from '../../src/tui/state.ts';
import { DevView } from '../../src/tui/view.tsx';
import { diag, plan, samplePlan, view } from '../support/tui-fixtures.ts';

// chalk decides once, at import, whether to color: force it on, so "no color" below is the view's choice.
vi.hoisted(() => {
  process.env.FORCE_COLOR = '1';
});

// The panes rendered by ink from a Plan and diagnostics, and keys typed into the running view.
// The store here is the real reducer without a controller: effects are recorded, not run.

const at = Date.UTC(2026, 0, 1, 12, 0, 0);
const esc = '\u001b';

function planned(
  p = samplePlan(),
  diagnostics = [diag('registry/platform/tools.yaml', 4, 'CANON108', 'empty document', 'warning')],
): DevState {
  return step(initialState('registry', 'postgres://u:***@db/prod', 12), {
    type: 'replanned',
    view: view(p, diagnostics),
    trigger: { type: 'read', ms: 310, reason: 'start' },
    at,
  })[0];
}

function store(state: DevState): ViewStore & { effects: Effect[] } {
  const listeners = new Set<() => void>();
  const effects: Effect[] = [];
  return {
    effects,
    subscribe: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    getState: () => state,
    dispatch(event: DevEvent) {
      const [next, asked] = step(state, event);
      state = next;
      effects.push(...asked);
      for (const l of listeners) l();
    },
  };
}

/** React 19 and ink flush on later turns of the event loop; wait until the frame shows `text`. */
async function frameWith(lastFrame: () => string | undefined, text: string | RegExp): Promise<string> {
  for (let i = 0; i < 200; i++) {
    const frame = lastFrame() ?? '';
    if (typeof text === 'string' ? frame.includes(text) : text.test(frame)) return frame;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`the frame never showed ${text}:\n${lastFrame()}`);
}

async function type(
  stdin: { write(s: string): void },
  lastFrame: () => string | undefined,
  keys: string[],
  until?: string | RegExp,
) {
  for (const k of keys) {
    const before = lastFrame();
    stdin.write(k);
    // One key at a time, each after the previous one's frame (as a person types).
    for (let i = 0; i < 40 && lastFrame() === before; i++) await new Promise((r) => setTimeout(r, 5));
  }
  return until ? frameWith(lastFrame, until) : (lastFrame() ?? '');
}

afterEach(() => cleanup());

describe('canon dev view', () => {
  it('shows the header, problems as file:line:col CODE message, the plan as kinds → assets, the status', () => {
    const { lastFrame } = render(<DevView state={planned()} colors={false} width={100} />);
    const lines = lastFrame()!
      .split('\n')
      .map((l) => l.trimEnd());
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d read postgres:\/\/u:\*\*\*@db\/prod in 310 ms → re-planned in 84 ms: 1 to create/,
    );
    expect(lines.slice(1, 3)).toEqual([
      'canon dev · registry → postgres://u:***@db/prod · 12 assets in 3 files · 0 errors · 1 warning',
      'Plan: 1 to create, 1 to update, 1 to delete, 10 unchanged.',
    ]);
    expect(lines).toContain('›   Problems: 1 warning');
    expect(lines).toContain('      registry/platform/tools.yaml:4:3 CANON108 empty document');
    expect(lines).toContain('  ▾ Agent (1 to update)');
    expect(lines).toContain(
      '    ▸ ~ Agent msl-copilot will be updated in place (2 fields)  registry/platform/agents.yaml:2:5',
    );
    expect(lines).toContain('    ▸ - Tool old-search will be deleted (soft: deleted_at is set)');
    expect(lines.at(-2)).toBe(
      'read postgres://u:***@db/prod in 310 ms → re-planned in 84 ms: 1 to create, 1 to update, 1 to delete',
    );
    expect(lines.at(-1)).toMatch(
      /^↑↓\/jk move · enter expand · \/ filter · e errors · r reload db · a apply · \? help · q quit/,
    );
    expect(lastFrame()).not.toContain(esc);
  });

  it('shows knowledge chunks and embedding jobs in the header and as their own group', () => {
    const knowledge = {
      sources: [
        { kind: 'KnowledgeSource', id: 'pv-guide', tenant: null, table: 'knowledge_sources', changed: 3, moved: 0 },
      ].map((s) => ({ ...s, unchanged: 197, removed: 0, jobs: 3, tokens: 1204 })),
      totals: { changed: 3, moved: 0, unchanged: 197, removed: 0, jobs: 3, tokens: 1204, waiting: 0 },
      model: 'text-embedding-3-small',
      dimensions: 1536,
    };
    const { lastFrame } = render(<DevView state={planned(plan([], { knowledge }), [])} colors={false} width={100} />);
    const lines = lastFrame()!
      .split('\n')
      .map((l) => l.trimEnd());
    // ink-testing-library's terminal is 100 columns wide: the header line is cut there, as on a real one.
    expect(lines[2]).toMatch(
      /^Plan: 0 to create, 0 to update, 0 to delete, 10 unchanged\. Knowledge: 3 chunks changed, 3 embedding/,
    );
    expect(lines).toContain('› ▾ Knowledge: 3 chunks changed, 3 embedding jobs (~1,204 tokens).');
    expect(lastFrame()!.replace(/\s+/g, ' ')).toContain(
      ' knowledge_sources/pv-guide: 3 chunks changed, 197 unchanged; 3 embedding jobs (~1,204 tokens) ',
    );
  });

  it('keeps its height whatever the plan: the list is padded or cut to the window', () => {
    const small = render(<DevView state={planned(plan([]), [])} colors={false} width={80} />);
    const large = render(<DevView state={planned()} colors={false} width={80} />);
    // 2 header lines, 2 rules, 12 list lines, status and keys; history lines come on top of it.
    const height = (frame: string) => frame.split('\n').length - 1;
    expect(height(small.lastFrame()!)).toBe(18);
    expect(height(large.lastFrame()!)).toBe(18);
  });

  it('uses color only when asked (a terminal without NO_COLOR)', () => {
    const { lastFrame } = render(<DevView state={planned()} colors={true} width={100} />);
    expect(lastFrame()).toContain(`${esc}[`);
  });

  it('moves, expands an asset into field changes (text as a line diff) and filters, from the keyboard', async () => {
    const s = store(planned());
    const { lastFrame, stdin } = render(<DevApp controller={s} colors={false} />);
    await frameWith(lastFrame, 'Agent (1 to update)');
    let frame = await type(stdin, lastFrame, ['j', 'j', 'j', '\r'], '~ system_prompt:');
    expect(frame).toContain('›   ▾ ~ Agent msl-copilot will be updated in place');
    expect(frame).toContain('~ model_config.temperature: 0.2 → 0.3');
    expect(frame).toContain('- Cite sources.');
    expect(frame).toContain('+ Cite every source.');
    frame = await type(stdin, lastFrame, [' '], /▸ ~ Agent msl-copilot/);
    expect(frame).not.toContain('~ system_prompt:');
    frame = await type(stdin, lastFrame, ['/', 't', 'o', 'o', 'l'], 'enter keeps the filter');
    expect(frame).toContain('- Tool old-search');
    expect(frame).not.toContain('Agent msl-copilot');
    expect(frame).not.toContain('Prompt new-summary');
    frame = await type(stdin, lastFrame, [esc], 'Prompt new-summary');
    expect(frame).toContain('Agent msl-copilot');
  });

  it('takes keys that arrive together (a held key, a script) one by one', async () => {
    const s = store(planned());
    const { lastFrame, stdin } = render(<DevApp controller={s} colors={false} />);
    await frameWith(lastFrame, 'Agent (1 to update)');
    const frame = await type(stdin, lastFrame, ['jjj'], '›   ▸ ~ Agent msl-copilot');
    expect(frame).toContain('›   ▸ ~ Agent msl-copilot will be updated in place');
  });

  it('shows help on ?, and asks before applying: once, and again for deletes', async () => {
    const s = store(planned());
    const { lastFrame, stdin } = render(<DevApp controller={s} colors={false} />);
    await frameWith(lastFrame, 'Agent (1 to update)');
    let frame = await type(stdin, lastFrame, ['?'], 'Keys');
    expect(frame).toContain('  q, Ctrl-C     quit');
    frame = await type(stdin, lastFrame, ['x'], 'Agent (1 to update)');
    frame = await type(stdin, lastFrame, ['a'], 'Apply this plan to');
    expect(frame).toContain('Press y to apply it; any other key cancels.');
    frame = await type(stdin, lastFrame, ['y'], 'This plan deletes 1 asset');
    expect(frame).toContain('  - Tool old-search');
    expect(s.effects).toEqual([]);
    frame = await type(stdin, lastFrame, ['y'], 'Applying to');
    expect(s.effects).toEqual([{ type: 'apply', plan: samplePlan(), allowDelete: true }]);
  });

  it('prints what happened above the live region, once per event', async () => {
    const s = store(planned());
    const { lastFrame } = render(<DevApp controller={s} colors={false} />);
    await frameWith(lastFrame, 'Agent (1 to update)');
    s.dispatch({
      type: 'replanned',
      view: view(null, [diag('registry/a.yaml', 3, 'CANON203', "unknown field 'nmae'. Did you mean 'name'?")]),
      at,
      trigger: { type: 'saved', files: [{ file: 'registry/a.yaml', name: 'a.yaml', change: 'saved' }] },
    });
    const frame = await frameWith(lastFrame, 'a.yaml saved → 1 error');
    const history = frame.split('\n').filter((l) => /^\d\d:\d\d:\d\d /.test(l));
    // One line each, cut at the terminal's width (ink-testing-library's is 100).
    expect(history.map((l) => l.slice(9).trimEnd())).toEqual([
      'read postgres://u:***@db/prod in 310 ms → re-planned in 84 ms: 1 to create, 1 to update, 1…',
      'a.yaml saved → 1 error (checked in 84 ms)',
    ]);
    expect(frame).toContain("registry/a.yaml:3:3 CANON203 unknown field 'nmae'. Did you mean 'name'?");
  });
});

// npm run bench:dev — `canon dev` on a 10,000-asset synthetic registry: the time from saving a file
// to the new plan on screen, over 50 saves, with the real watcher, plan session and ink view (drawn
// into an in-memory terminal). Prints the distribution and where the time goes; asserts nothing.
// BENCH_DEV_ASSETS and BENCH_DEV_SAVES change the size and the number of saves.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { applyRegistry } from '../../src/apply/apply.ts';
import { openDatabase } from '../../src/db/open.ts';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

// ink decides at import whether it is in CI (then it draws only the last frame): it must not be.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
const [{ render }, { createElement }, { DevApp }, { DevController }, { createDevPlanner }, { watchRegistry }] =
  await Promise.all([
    import('ink'),
    import('react'),
    import('../../src/tui/app.tsx'),
    import('../../src/tui/controller.ts'),
    import('../../src/tui/session-adapter.ts'),
    import('../../src/tui/watcher.ts'),
  ]);

const assets = Number(process.env.BENCH_DEV_ASSETS ?? 10_000);
const saves = Number(process.env.BENCH_DEV_SAVES ?? 50);
const catalog = loadKindCatalog('schemas');
const dir = join(mkdtempSync(join(tmpdir(), 'canon-bench-dev-')), 'registry');
const written = writeSyntheticRegistry(dir, assets);
const settings = {
  dir,
  catalog,
  deleteMode: 'soft' as const,
  noEmbeddings: false,
  statementTimeoutMs: 600_000,
  lockTimeoutMs: 5_000,
};
console.log(
  `canon dev benchmark: ${written.assets} assets in ${written.files} files, PGlite in memory, ${saves} saves`,
);

const db = await openDatabase({ backend: 'pglite', dataDir: null });
let t = performance.now();
const applied = await applyRegistry(db, {
  ...settings,
  schema: {
    embeddings: true,
    dimensions: 1536,
    tenancy: (await import('../../src/config/config.ts')).defaultConfig.tenancy,
  },
  allowDelete: false,
  allowDestructive: false,
});
console.log(`setup: applied the registry (${applied.status}) in ${Math.round(performance.now() - t)} ms`);

/** A terminal in memory: 140 × 45, recording when each frame is written and what it says. */
class Screen extends Writable {
  isTTY = true;
  columns = 140;
  rows = 45;
  frames: { at: number; text: string }[] = [];
  override _write(chunk: Buffer, _: string, done: () => void) {
    this.frames.push({ at: performance.now(), text: chunk.toString() });
    done();
  }
}
const screen = new Screen();
const stdin = Object.assign(new PassThrough(), {
  isTTY: true,
  setRawMode: () => stdin,
  ref: () => stdin,
  unref: () => stdin,
});

const planner = createDevPlanner(settings);
const replans: { at: number; ms: number }[] = [];
const timedPlanner = {
  ...planner,
  replan: (paths?: readonly string[]) => {
    const view = planner.replan(paths);
    replans.push({ at: performance.now(), ms: view.ms });
    return view;
  },
};
const controller = new DevController({
  planner: timedPlanner,
  openDatabase: async () => db,
  dir,
  databaseLabel: 'memory:',
  listHeight: 38,
  width: 140,
});
const events: number[] = [];
const watcher = watchRegistry(
  dir,
  (change) => {
    events.push(performance.now());
    controller.fileChanged(change);
  },
  (m) => console.error(m),
);
await watcher.ready;
const app = render(createElement(DevApp, { controller, colors: true }), {
  stdout: screen as unknown as NodeJS.WriteStream,
  stdin: stdin as unknown as NodeJS.ReadStream,
  exitOnCtrlC: false,
  patchConsole: false,
  maxFps: 30,
});

t = performance.now();
controller.start();
await new Promise<void>((resolve) => {
  const off = controller.subscribe(() => {
    if (controller.state.db.state === 'ready' && controller.state.busy === null) {
      off();
      resolve();
    }
  });
});
console.log(
  `start: first plan and live read in ${Math.round(performance.now() - t)} ms (${controller.state.status.text})`,
);

const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();
const rows: { total: number; watch: number; plan: number; draw: number; frames: number }[] = [];
for (let i = 0; i < saves; i++) {
  const file = files[(i * 4) % files.length]!;
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  const marker = `${file} saved`;
  const framesBefore = screen.frames.length;
  const eventsBefore = events.length;
  const replansBefore = replans.length;
  const saved = performance.now();
  writeFileSync(path, text.replace('Line 1: follow the standard', `Line 1: follow the standard (edit ${i})`));
  const shown = await new Promise<number>((resolve) => {
    const check = setInterval(() => {
      const frame = screen.frames.slice(framesBefore).find((f) => f.text.includes(marker));
      if (frame) {
        clearInterval(check);
        resolve(frame.at);
      }
    }, 1);
  });
  const event = events[eventsBefore] ?? shown;
  const replan = replans[replansBefore];
  rows.push({
    total: shown - saved,
    watch: event - saved,
    plan: replan?.ms ?? NaN,
    draw: replan ? shown - replan.at : NaN,
    // Frames drawn (writes holding the header), not writes: ink brackets each frame with sync codes.
    frames: screen.frames.slice(framesBefore).filter((f) => f.text.includes('canon dev ·')).length,
  });
  await new Promise((r) => setTimeout(r, 250));
}

const quantile = (values: number[], q: number) => {
  const sorted = [...values].filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
};
const line = (name: string, values: number[]) => {
  const cells = [0, 0.5, 0.9, 0.95, 1].map((q) => String(Math.round(quantile(values, q))).padStart(6));
  console.log(`${name.padEnd(28)}${cells.join('')}`);
};
console.log(`\nsave → plan on screen, ${rows.length} saves (ms)   min   p50   p90   p95   max`);
line(
  'total (goal < 300)',
  rows.map((r) => r.total),
);
line(
  '  save → watcher event',
  rows.map((r) => r.watch),
);
line(
  '  re-plan (session update)',
  rows.map((r) => r.plan),
);
line(
  '  re-plan end → frame written',
  rows.map((r) => r.draw),
);
line(
  'frames drawn per save',
  rows.map((r) => r.frames),
);
console.log(`under 300 ms: ${rows.filter((r) => r.total < 300).length} of ${rows.length}`);

app.unmount();
await controller.stop();
await watcher.close();

import { createElement } from 'react';
import type { Output } from '../cli/io.ts';
import { openDatabase, parseDatabaseSpec } from '../db/open.ts';
import { redactDatabaseUrl } from '../db/redact.ts';
import { colorStyle, styleFor } from '../render/style.ts';
import { DevController } from './controller.ts';
import { runLineMode } from './line-mode.ts';
import { createDevPlanner, type DevSettings } from './session-adapter.ts';
import { watchRegistry } from './watcher.ts';

export interface DevOptions extends DevSettings {
  /** --database as given (or undefined: $DATABASE_URL, else the embedded database). */
  database: string | undefined;
}

export interface DevIO {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** Default: process.stdin. */
  stdin?: NodeJS.ReadStream;
  /** Resolves when the view must stop. Default: the first of SIGINT, SIGTERM, SIGHUP. */
  stopSignal?: Promise<void>;
}

/** The first of SIGINT, SIGTERM or SIGHUP; the view then shuts down in order instead of dying mid-apply. */
function processStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const stop = () => {
      for (const s of signals) process.off(s, stop);
      resolve();
    };
    for (const s of signals) process.on(s, stop);
  });
}

/** ink's own test (is-in-ci): with CI set, ink draws only the last frame at exit, so the live view is useless there. */
export const inCi = (env: NodeJS.ProcessEnv) =>
  ['CI', 'CONTINUOUS_INTEGRATION'].some((k) => k in env && env[k] !== '0' && env[k] !== 'false');

/** How often `canon dev` asks a server whether someone else changed it (an embedded database is locked to us). */
const serverPollMs = 2000;

/**
 * `canon dev`: watch the registry, re-plan on every save, show it. A live ink view on a terminal;
 * one printed block per change otherwise. Returns the exit code once quit (q, Ctrl-C, a signal).
 */
export async function runDev(options: DevOptions, given: DevIO): Promise<number> {
  const io = { ...given, stdin: given.stdin ?? process.stdin, stopSignal: given.stopSignal ?? processStopSignal() };
  const spec = parseDatabaseSpec(options.database, io.env);
  const databaseLabel = spec.backend === 'pglite' ? (spec.dataDir ?? 'memory:') : redactDatabaseUrl(spec.url);
  const interactive = io.stdout.isTTY === true && io.stdin.isTTY === true && !inCi(io.env);
  const planner = createDevPlanner(options);
  const controller = new DevController({
    planner,
    openDatabase: () => {
      const schema = planner.databaseSchema;
      const opening = { purpose: 'canon dev', statementTimeoutMs: options.statementTimeoutMs };
      return openDatabase(spec, { ...opening, ...(schema ? { schema } : {}) });
    },
    dir: options.dir,
    ...(options.root ? { root: options.root } : {}),
    databaseLabel,
    secrets: spec.backend === 'postgres' ? [spec.url] : [],
    pollMs: spec.backend === 'postgres' ? serverPollMs : 0,
    listHeight: interactive ? Math.max(3, ((io.stdout as NodeJS.WriteStream).rows ?? 30) - 7) : 20,
    width: (io.stdout as NodeJS.WriteStream).columns ?? 100,
  });
  const watcher = watchRegistry(options.dir, controller.fileChanged, (message) =>
    controller.dispatch({ type: 'internal-error', message, at: Date.now() }),
  );
  try {
    await watcher.ready;
    if (!interactive) {
      await runLineMode(controller, io.stdout, styleFor(io.stdout, io.env), io.stopSignal);
      return 0;
    }
    return await runInteractive(controller, io);
  } finally {
    await watcher.close();
    await controller.stop();
  }
}

async function runInteractive(controller: DevController, io: Required<DevIO>): Promise<number> {
  // ink and React load only for the live view: line mode and every other command stay without them.
  const [{ render }, { DevApp }] = await Promise.all([import('ink'), import('./app.tsx')]);
  const colors = styleFor(io.stdout, io.env) === colorStyle;
  const app = render(createElement(DevApp, { controller, colors }), {
    stdout: io.stdout as NodeJS.WriteStream,
    stdin: io.stdin,
    stderr: io.stderr as NodeJS.WriteStream,
    // Ctrl-C is a key like q: the view shuts down in order (apply finished, database closed, lock released).
    exitOnCtrlC: false,
    // Renders are throttled to 30 a second and written inside synchronized-output brackets (no tearing).
    // incrementalRendering stays off: in ink 6.8 it left stale lines on screen after <Static> output.
    maxFps: 30,
  });
  try {
    // First frame on screen, then the (possibly long) first read of the registry.
    setImmediate(() => controller.start());
    void io.stopSignal.then(() => controller.stop());
    // If the view itself fails, ink shows the error and exits: stop the rest in order too.
    void app.waitUntilExit().then(
      () => controller.stop(),
      () => controller.stop(),
    );
    await controller.done;
  } finally {
    app.unmount();
    await app.waitUntilExit().catch(() => {});
  }
  return 0;
}

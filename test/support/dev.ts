import { dirname } from 'node:path';
import type { Database } from '../../src/db/open.ts';
import { DevController } from '../../src/tui/controller.ts';
import { char } from '../../src/tui/keys.ts';
import { createDevPlanner } from '../../src/tui/session-adapter.ts';
import type { DevState } from '../../src/tui/state.ts';
import { type RegistryWatcher, watchRegistry } from '../../src/tui/watcher.ts';
import { catalog } from './registry.ts';

/** `canon dev`'s controller on a registry copy, with the real planner and watcher (files named from its parent). */
export async function devView(
  dir: string,
  openDatabase: () => Promise<Database>,
  options: { embeddings: boolean; pollMs?: number; label?: string },
) {
  const root = dirname(dir);
  const controller = new DevController({
    planner: createDevPlanner({
      dir,
      root,
      catalog,
      deleteMode: 'soft',
      noEmbeddings: !options.embeddings,
      statementTimeoutMs: 60_000,
      lockTimeoutMs: 5_000,
    }),
    openDatabase,
    dir,
    root,
    databaseLabel: options.label ?? 'test-db',
    pollMs: options.pollMs ?? 0,
    listHeight: 40,
    width: 200,
  });
  const problems: string[] = [];
  const watcher: RegistryWatcher = watchRegistry(dir, controller.fileChanged, (m) => problems.push(m), {
    reappearMs: 50,
  });
  await watcher.ready;
  controller.start();
  return {
    controller,
    problems,
    press: (...keys: string[]) => {
      for (const k of keys) controller.dispatch({ type: 'key', key: char(k) });
    },
    /** Resolves with the first state that satisfies `ok`; fails with what the view showed if none does in time. */
    until(ok: (s: DevState) => boolean, what: string, deadlineMs = 45_000): Promise<DevState> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          unsubscribe();
          const s = controller.state;
          reject(
            new Error(
              `canon dev never showed ${what}; status: ${s.status.text}; ` +
                `history: ${s.history.map((h) => h.text).join(' | ')}`,
            ),
          );
        }, deadlineMs);
        const check = () => {
          if (!ok(controller.state)) return;
          clearTimeout(timer);
          unsubscribe();
          resolve(controller.state);
        };
        const unsubscribe = controller.subscribe(check);
        check();
      });
    },
    async quit() {
      controller.dispatch({ type: 'key', key: char('q') });
      await controller.done;
      await watcher.close();
    },
  };
}

export const savedEntries = (s: DevState) =>
  s.history.filter((h) => / (saved|created|deleted|changed) → /.test(h.text));

import { existsSync, statSync } from 'node:fs';
import { basename, join, relative, resolve, sep } from 'node:path';
import { type FSWatcher, watch } from 'chokidar';
import { configFileName } from '../config/config.ts';
import { listRegistryFiles } from '../load/load.ts';

export interface FileChange {
  path: string;
  change: 'saved' | 'created' | 'deleted';
}

export interface RegistryWatcher {
  /** Resolves when the initial scan is done: saves after this are reported. */
  ready: Promise<void>;
  close(): Promise<void>;
}

const isYaml = (path: string) => path.endsWith('.yaml') || path.endsWith('.yml');

export interface WatchOptions {
  /** How long a file must stay unchanged before its save is reported. */
  stabilityMs?: number;
  /** How often to look for the registry folder while it does not exist. */
  reappearMs?: number;
  /** How often to compare the folder with what was reported (0: never). */
  sweepMs?: number;
}

/** Size and modification time of every registry file (canon.yaml included), by absolute path. */
function snapshot(dir: string): Map<string, { sig: string; mtimeMs: number }> {
  const out = new Map<string, { sig: string; mtimeMs: number }>();
  let files: string[] = [];
  try {
    files = [...listRegistryFiles(dir), join(dir, configFileName)];
  } catch {
    return out;
  }
  for (const file of files) {
    try {
      const s = statSync(file);
      out.set(resolve(file), { sig: `${s.size}:${s.mtimeMs}`, mtimeMs: s.mtimeMs });
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

/**
 * Watches the registry folder (canon.yaml included) and reports each saved, created or deleted YAML
 * file once: chokidar waits until a file stops changing (awaitWriteFinish), and folds an editor's
 * write-to-temp-then-rename into one change (atomic). chokidar 4+ ignores glob strings silently,
 * so `ignored` is a function: hidden entries (editor swap files, .git), node_modules, non-YAML files.
 * chokidar stops seeing a folder that was removed and made again, so then the watch starts afresh.
 * And chokidar drops a file deleted while it waits for the file's write to finish, so a slow sweep
 * compares the folder with what was reported and reports what was missed: the last state wins.
 */
export function watchRegistry(
  dir: string,
  report: (change: FileChange) => void,
  onError: (message: string) => void,
  options: WatchOptions = {},
): RegistryWatcher {
  const root = resolve(dir);
  let watcher: FSWatcher | null = null;
  let waiting: NodeJS.Timeout | null = null;
  let closed = false;
  // The folder watched, by inode and birth time (file systems reuse a freed inode at once): removed
  // and made again before chokidar noticed (a branch switch, a busy machine), it is a new folder
  // that the old watcher's handles no longer see.
  let watchedFolder: string | undefined;

  const ignored = (path: string, stats?: { isFile(): boolean }) => {
    const inside = relative(root, resolve(path));
    if (inside === '' || inside.startsWith('..')) return false;
    if (inside.split(sep).some((part) => part.startsWith('.') || part === 'node_modules')) return true;
    return stats?.isFile() === true && !isYaml(path);
  };

  function start(): Promise<void> {
    watchedFolder = identityOf(root);
    const w = watch(dir, {
      ignoreInitial: true,
      ignored,
      atomic: true,
      awaitWriteFinish: { stabilityThreshold: options.stabilityMs ?? 50, pollInterval: 10 },
    });
    watcher = w;
    const file = (change: FileChange['change']) => (path: string) => {
      if (isYaml(path)) onChange({ path, change });
    };
    w.on('add', file('created'));
    w.on('change', file('saved'));
    w.on('unlink', file('deleted'));
    w.on('addDir', (path) => resolve(path) !== root && onChange({ path, change: 'created' }));
    w.on('unlinkDir', (path) => {
      onChange({ path, change: 'deleted' });
      if (resolve(path) === root) void restartWhenBack();
    });
    w.on('error', (e) => onError(`watching ${basename(dir)} failed: ${(e as Error).message}`));
    return new Promise((ready) => w.once('ready', () => ready()));
  }

  // The old watcher is closed only once the folder is back: closed from inside its own unlinkDir
  // handler, chokidar 5 leaves fs.watch handles open (and the process would not exit).
  async function restartWhenBack() {
    if (closed || waiting) return;
    waiting = setInterval(() => {
      if (closed || !existsSync(root)) return;
      clearInterval(waiting!);
      waiting = null;
      const old = watcher;
      watcher = null;
      void (old?.close() ?? Promise.resolve())
        .then(() => (closed ? undefined : start()))
        .then(() => {
          if (closed) return;
          reported = signatures();
          report({ path: dir, change: 'created' });
        });
    }, options.reappearMs ?? 250);
  }

  // The folder as it was when changes were last reported (so as the planner read it just after);
  // the sweep reports files that differ from it once they have stood still for a while, so a save in
  // progress is left to chokidar (one save, one report).
  const signatures = () => new Map([...snapshot(dir)].map(([path, { sig }]) => [path, sig]));
  let reported = new Map<string, string>();
  let retake: NodeJS.Immediate | null = null;
  const settledMs = Math.max(500, 4 * (options.stabilityMs ?? 50));
  function onChange(change: FileChange) {
    retake ??= setImmediate(() => {
      retake = null;
      reported = signatures();
    });
    report(change);
  }
  function sweep() {
    if (closed || waiting || !existsSync(root)) return;
    if (watchedFolder !== undefined && identityOf(root) !== watchedFolder) {
      void restartWhenBack();
      return;
    }
    const now = snapshot(dir);
    const settled = Date.now() - settledMs;
    for (const [path, { sig, mtimeMs }] of now) {
      const before = reported.get(path);
      if (before === sig || mtimeMs > settled) continue;
      reported.set(path, sig);
      report({ path, change: before === undefined ? 'created' : 'saved' });
    }
    for (const path of [...reported.keys()]) {
      if (now.has(path)) continue;
      reported.delete(path);
      report({ path, change: 'deleted' });
    }
  }
  const sweeper = options.sweepMs === 0 ? null : setInterval(sweep, options.sweepMs ?? 1000);
  sweeper?.unref();

  const ready = (existsSync(root) ? start() : restartWhenBack()).then(() => {
    reported = signatures();
  });
  return {
    ready,
    async close() {
      closed = true;
      if (waiting) clearInterval(waiting);
      if (sweeper) clearInterval(sweeper);
      if (retake) clearImmediate(retake);
      await watcher?.close();
    },
  };
}

function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return `${stats.ino}@${stats.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

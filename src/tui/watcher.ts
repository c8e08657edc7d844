import { basename, relative, sep } from 'node:path';
import { watch } from 'chokidar';

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

/**
 * Watches the registry folder (canon.yaml included) and reports each saved, created or deleted YAML
 * file once: chokidar waits until a file stops changing (awaitWriteFinish), and folds an editor's
 * write-to-temp-then-rename into one change (atomic). chokidar 4+ ignores glob strings silently,
 * so `ignored` is a function: hidden entries (editor swap files, .git), node_modules, non-YAML files.
 */
export function watchRegistry(dir: string, onChange: (change: FileChange) => void, onError: (message: string) => void, stabilityMs = 50): RegistryWatcher {
  const ignored = (path: string, stats?: { isFile(): boolean }) => {
    const inside = relative(dir, path);
    if (inside === '' || inside.startsWith('..')) return false;
    if (inside.split(sep).some((part) => part.startsWith('.') || part === 'node_modules')) return true;
    return stats?.isFile() === true && !isYaml(path);
  };
  const watcher = watch(dir, {
    ignoreInitial: true,
    ignored,
    atomic: true,
    awaitWriteFinish: { stabilityThreshold: stabilityMs, pollInterval: 10 },
  });
  const file = (change: FileChange['change']) => (path: string) => {
    if (isYaml(path)) onChange({ path, change });
  };
  watcher.on('add', file('created'));
  watcher.on('change', file('saved'));
  watcher.on('unlink', file('deleted'));
  watcher.on('addDir', (path) => path !== dir && onChange({ path, change: 'created' }));
  watcher.on('unlinkDir', (path) => onChange({ path, change: 'deleted' }));
  watcher.on('error', (e) => onError(`watching ${basename(dir)} failed: ${(e as Error).message}`));
  return {
    ready: new Promise((resolve) => watcher.once('ready', () => resolve())),
    close: () => watcher.close(),
  };
}

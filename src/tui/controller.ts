import { relative, resolve } from 'node:path';
import { DatabaseError, describeConnectionError } from '../db/errors.ts';
import { DatabaseLockedError } from '../db/lock.ts';
import type { Database } from '../db/open.ts';
import { liveFingerprint } from '../introspect/fingerprint.ts';
import { displayPath } from '../load/load.ts';
import type { Plan } from '../plan/model.ts';
import type { DevPlanner } from './session-adapter.ts';
import {
  type DevEvent,
  type DevState,
  type Effect,
  initialState,
  type ReadReason,
  type SavedFile,
  step,
} from './state.ts';
import type { FileChange } from './watcher.ts';

export interface ControllerOptions {
  planner: DevPlanner;
  /** Opens the database (again, after it could not be opened). */
  openDatabase: () => Promise<Database>;
  /** The registry folder, and the folder diagnostics are relative to. */
  dir: string;
  root?: string;
  /** The database's label for the view: never a password. */
  databaseLabel: string;
  /** Secrets that must never reach the screen (the --database URL as typed). */
  secrets?: string[];
  /** How often to ask a server whether its contents changed; 0 turns it off. */
  pollMs?: number;
  /** Saves closer together than this are planned together. */
  settleMs?: number;
  listHeight?: number;
  width?: number;
  now?: () => number;
}

type Listener = () => void;

/**
 * Runs the view's effects: re-plans on saves (coalesced), reads the database, applies, polls a
 * server for changes made behind the view's back, and shuts down cleanly. The view's behaviour is
 * the pure `step` reducer; this class only does the work it asks for and reports back.
 */
export class DevController {
  private current: DevState;
  private readonly listeners = new Set<Listener>();
  private db: Database | null = null;
  private readonly pending = new Map<string, FileChange['change']>();
  private replanTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private fingerprint: string | null = null;
  private staleAgain: 'changed' | 'settings' | null = null;
  private readonly work = new Set<Promise<unknown>>();
  private stopping: Promise<void> | null = null;
  private resolveDone!: () => void;
  /** Resolves once the view quit and the database is closed (its lock released). */
  readonly done = new Promise<void>((resolve) => {
    this.resolveDone = resolve;
  });
  private readonly now: () => number;
  private readonly root: string;

  constructor(private readonly options: ControllerOptions) {
    this.now = options.now ?? Date.now;
    this.root = options.root ?? process.cwd();
    this.current = initialState(
      displayPath(resolve(options.dir), this.root),
      options.databaseLabel,
      options.listHeight,
      options.width,
    );
  }

  get state(): DevState {
    return this.current;
  }

  subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  getState = () => this.current;

  dispatch = (event: DevEvent) => {
    const [next, effects] = step(this.current, event);
    this.current = next;
    for (const listener of this.listeners) listener();
    for (const effect of effects) this.run(effect);
  };

  /** Plans the registry as it is, then reads the database. */
  start() {
    const view = this.guard(() => this.options.planner.replan());
    if (view) this.dispatch({ type: 'replanned', view, trigger: { type: 'start' }, at: this.now() });
    this.run({ type: 'refresh', reason: 'start' });
    if (this.options.pollMs) this.pollTimer = setInterval(() => this.track(this.poll()), this.options.pollMs);
  }

  /** A watcher event: planned with the others that arrive before the next re-plan. */
  fileChanged = (change: FileChange) => {
    const known = this.pending.get(change.path);
    // Created then saved is still created; deleted then created again is a save.
    this.pending.set(
      change.path,
      known === 'created' && change.change === 'saved'
        ? 'created'
        : known === 'deleted' && change.change === 'created'
          ? 'saved'
          : change.change,
    );
    if (this.stopping || this.replanTimer) return;
    this.replanTimer = setTimeout(() => {
      this.replanTimer = null;
      this.replanSaved();
    }, this.options.settleMs ?? 5);
  };

  private takePending(): { paths: string[]; files: SavedFile[] } {
    const files = [...this.pending].map(([path, change]) => ({
      file: displayPath(resolve(path), this.root),
      // Files by their path in the registry; the registry folder itself by its name.
      name:
        relative(resolve(this.options.dir), resolve(path)).split('\\').join('/') ||
        displayPath(resolve(path), this.root),
      change,
    }));
    const paths = [...this.pending.keys()];
    this.pending.clear();
    return { paths, files };
  }

  private replanSaved() {
    if (this.stopping || this.pending.size === 0) return;
    const { paths, files } = this.takePending();
    const view = this.guard(() => this.options.planner.replan(paths));
    if (!view) return;
    this.dispatch({ type: 'replanned', view, trigger: { type: 'saved', files }, at: this.now() });
    if (!view.settingsChanged) return;
    if (this.current.busy) this.staleAgain = 'settings';
    else this.dispatch({ type: 'live-stale', reason: 'settings' });
  }

  /** A bug must not take the terminal down with it: it is reported in the view, which keeps running. */
  private guard<T>(work: () => T): T | null {
    try {
      return work();
    } catch (e) {
      this.dispatch({ type: 'internal-error', message: (e as Error).message, at: this.now() });
      return null;
    }
  }

  private run(effect: Effect) {
    if (effect.type === 'refresh') this.track(this.refresh(effect.reason));
    else if (effect.type === 'apply') this.track(this.apply(effect.plan, effect.allowDelete));
    else void this.stop();
  }

  private track(promise: Promise<unknown>) {
    this.work.add(promise);
    void promise.finally(() => this.work.delete(promise));
  }

  private describe(e: unknown): string {
    const message =
      e instanceof DatabaseError || e instanceof DatabaseLockedError
        ? e.message
        : describeConnectionError(e, this.options.databaseLabel).message;
    return (this.options.secrets ?? [])
      .filter(Boolean)
      .reduce((m, secret) => m.split(secret).join(this.options.databaseLabel), message);
  }

  private async refresh(reason: ReadReason) {
    const started = this.now();
    try {
      this.db ??= await this.options.openDatabase();
      if (this.stopping) return;
      await this.options.planner.refresh(this.db);
      if (this.db.backend === 'postgres') this.fingerprint = await liveFingerprint(this.db.pool, this.db.schema);
    } catch (e) {
      if (!this.stopping) this.dispatch({ type: 'db-unavailable', message: this.describe(e), at: this.now() });
      return;
    }
    if (this.stopping) return;
    const read = this.now() - started;
    // Saves waiting for their re-plan keep waiting: their own timer reports them as saves.
    const view = this.guard(() => this.options.planner.replan([]));
    if (!view) return;
    this.dispatch({ type: 'replanned', view, trigger: { type: 'read', ms: read, reason }, at: this.now() });
    const again = this.staleAgain ?? (view.settingsChanged ? 'settings' : null);
    this.staleAgain = null;
    if (again) this.dispatch({ type: 'live-stale', reason: again });
  }

  private async apply(plan: Plan, allowDelete: boolean) {
    let result: Awaited<ReturnType<DevPlanner['apply']>>;
    try {
      result = this.db
        ? await this.options.planner.apply(this.db, plan, allowDelete)
        : { status: 'failed', message: 'no database is open; press r to connect' };
    } catch (e) {
      result = { status: 'failed', message: this.describe(e) };
    }
    this.dispatch({ type: 'applied', result, at: this.now() });
  }

  /** Asks a server whether anything changed since the last read; a failure means the database went away. */
  private async poll() {
    const db = this.db;
    if (!db || this.stopping || this.current.busy || this.current.db.state !== 'ready') return;
    try {
      const seen = await liveFingerprint(db.pool, db.schema);
      if (this.stopping || this.current.db.state !== 'ready') return;
      if (this.current.busy) return;
      if (this.fingerprint !== null && seen !== this.fingerprint)
        this.dispatch({ type: 'live-stale', reason: 'changed' });
    } catch (e) {
      if (!this.stopping && this.current.db.state === 'ready')
        this.dispatch({ type: 'db-unavailable', message: this.describe(e), at: this.now() });
    }
  }

  /** Waits for a running apply or read, then closes the database (releasing its lock). Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (this.replanTimer) clearTimeout(this.replanTimer);
      if (this.pollTimer) clearInterval(this.pollTimer);
      while (this.work.size > 0) await Promise.allSettled([...this.work]);
      const db = this.db;
      this.db = null;
      try {
        await db?.close();
      } finally {
        this.resolveDone();
      }
    })();
    return this.stopping;
  }
}

import { createHash } from 'node:crypto';
import type { LiveRegistry } from '../introspect/rows.ts';
import type { ResolvedAsset } from '../resolve/graph.ts';
import type { KindShape } from './shape.ts';
import { type AssetState, desiredState, stateText } from './state.ts';

/** An asset's canonical state with its canonical text: two states are equal exactly when their texts are. */
export interface CanonicalState {
  state: AssetState;
  text: string;
}

/**
 * Canonical states and texts, computed once per asset and kept while the asset object lives.
 * A cold plan uses a fresh cache; a plan session keeps one across re-plans, so an asset the
 * resolver did not touch (same object) costs a lookup, not a rebuild. Keyed by object identity:
 * resolved assets and live states are never mutated after they are built.
 */
export class StateCache {
  private readonly desired = new WeakMap<ResolvedAsset, CanonicalState & { shape: KindShape }>();
  private readonly live = new WeakMap<AssetState, string>();
  private readonly liveHashes = new WeakMap<LiveRegistry['assets'], { unmanaged: string; hash: string }>();

  /** The registry's side of an asset. */
  desiredOf(shape: KindShape, asset: ResolvedAsset): CanonicalState {
    const known = this.desired.get(asset);
    if (known && known.shape === shape) return known;
    const state = desiredState(shape, asset);
    const entry = { state, text: stateText(state), shape };
    this.desired.set(asset, entry);
    return entry;
  }

  /** The canonical text of a state read from the database. */
  textOf(state: AssetState): string {
    let text = this.live.get(state);
    if (text === undefined) {
      text = stateText(state);
      this.live.set(state, text);
    }
    return text;
  }

  /** Whether a live state has the desired content. Equal texts are then shared: the next check compares pointers. */
  sameContent(live: AssetState, desired: CanonicalState): boolean {
    const text = this.textOf(live);
    if (text !== desired.text) return false;
    desired.text = text;
    return true;
  }

  /** The hash of the live rows; the managed rows' part is hashed once per read of them. */
  liveHashOf(live: LiveRegistry, compute: () => string): string {
    const unmanaged = JSON.stringify(live.unmanaged);
    const known = this.liveHashes.get(live.assets);
    if (known && known.unmanaged === unmanaged) return known.hash;
    const hash = compute();
    this.liveHashes.set(live.assets, { unmanaged, hash });
    return hash;
  }
}

/**
 * A property computed the first time it is read, then kept as a plain value. The computation must
 * depend only on data that is not changed afterwards.
 */
export function computedOnRead<T extends object, K extends keyof T>(target: T, key: K, compute: () => T[K]): void {
  const settle = (value: T[K]) =>
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get: () => {
      const value = compute();
      settle(value);
      return value;
    },
    set: settle,
  });
}

/**
 * Re-derives a property computed on read (a plan's hash) from its earlier value, still lazily: a
 * re-plan in `canon dev` pays for hashing only when the hash is read.
 */
export function deriveOnRead<T extends object, K extends keyof T>(target: T, key: K, derive: (before: T[K]) => T[K]) {
  const before = Object.getOwnPropertyDescriptor(target, key);
  const earlier = () => (before?.get ? before.get.call(target) : before?.value) as T[K];
  computedOnRead(target, key, () => derive(earlier()));
}

/** A line of a hashed listing: a short head that orders it and a long tail (a state's text) that rarely does. */
export interface HashLine {
  head: string;
  tail: string;
}

/** The order `lines.sort()` gives `head + tail`, without concatenating or comparing the long tails. */
function compareLines(a: HashLine, b: HashLine): number {
  if (a.head !== b.head && !a.head.startsWith(b.head) && !b.head.startsWith(a.head)) return a.head < b.head ? -1 : 1;
  // One head is a prefix of the other: only the whole lines decide.
  const x = a.head + a.tail;
  const y = b.head + b.tail;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** sha256 of the lines sorted, each followed by a newline: the same digest as hashing `head + tail` strings. */
export function hashSortedLines(lines: HashLine[]): string {
  const hash = createHash('sha256');
  for (const line of lines.sort(compareLines)) {
    // UTF-8 of head then tail equals UTF-8 of head + tail unless a surrogate pair straddles them.
    const last = line.head.charCodeAt(line.head.length - 1);
    if (last >= 0xd800 && last <= 0xdbff) hash.update(line.head + line.tail);
    else hash.update(line.head).update(line.tail);
    hash.update('\n');
  }
  return hash.digest('hex');
}

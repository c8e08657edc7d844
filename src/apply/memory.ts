import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection on request. V8 grows the heap to about twice what the last full
 * collection left before it collects again, and a large apply makes its garbage fast (every write
 * batch's rows as one JSON parameter of several MB): without this, a 100,000-asset apply peaked at
 * 2.3 GB for 0.6 GB of live data. `gc` is exposed the documented way V8 offers at run time; where
 * that is refused, collecting is left to V8.
 */
let collector: (() => void) | null | undefined;

function collect(): void {
  if (collector === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collector = runInNewContext('gc') as () => void;
    } catch {
      collector = null;
    }
  }
  collector?.();
}

/**
 * Counts the bytes of parameters sent, and collects once they pass `everyBytes` since the last
 * collection: a pause of a few hundred ms per 64 MB sent, which apply takes while the server runs a
 * statement (each MB of parameter text is several of garbage by the time it is sent: the rows, their
 * JSON and their SQL).
 */
export function garbageCollector(everyBytes = 64 * 1024 * 1024) {
  let sent = 0;
  return (values: readonly unknown[]) => {
    for (const v of values) if (typeof v === 'string') sent += v.length;
    if (sent < everyBytes) return;
    sent = 0;
    collect();
  };
}

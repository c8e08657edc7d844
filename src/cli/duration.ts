import { UsageError } from './io.ts';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `30s`, `500ms`, `2m`, `6h`, `7d` or a number of milliseconds. */
export function parseDuration(command: string, option: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`canon ${command}: --${option} takes a duration such as 30s, 500ms, 2m or 7d, not '${text}'.`);
  const n = Number(match[1]);
  return Math.round(n * unitMs[match[2] ?? 'ms']!);
}

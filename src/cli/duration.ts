import { UsageError } from './io.ts';

/** `30s`, `500ms`, `2m` or a number of milliseconds. */
export function parseDuration(command: string, option: string, text: string | undefined, fallbackMs: number): number {
  if (text === undefined) return fallbackMs;
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!match)
    throw new UsageError(`canon ${command}: --${option} takes a duration such as 30s, 500ms or 2m, not '${text}'.`);
  const n = Number(match[1]);
  return Math.round(match[2] === 's' ? n * 1000 : match[2] === 'm' ? n * 60_000 : n);
}

export type DiffLine = { op: ' ' | '-' | '+'; text: string };

/** Lines with their terminators: a trailing newline added or removed is a change, like any other byte. */
const terminated = (text: string) => text.match(/[^\n]*\n|[^\n]+$/g) ?? [];

/** A text's lines as shown: no phantom empty line after a final newline. */
export const textLines = (text: string) => terminated(text).map((line) => line.replace(/\n$/, ''));

/** How a changed line without a final newline is shown (git's "\ No newline at end of file"). */
export const noNewlineMark = ' ⟨no newline at end⟩';

/** A line diff (longest common subsequence), so a changed prompt reads as a patch, not two blobs. */
export function lineDiff(before: string, after: string): DiffLine[] {
  // Marked only when the final newline is what changed: otherwise the mark is noise on every last line.
  const newlineChanged = before.endsWith('\n') !== after.endsWith('\n');
  return rawLineDiff(terminated(before), terminated(after)).map(({ op, text }) => ({
    op,
    text: text.endsWith('\n') ? text.slice(0, -1) : op !== ' ' && newlineChanged ? `${text}${noNewlineMark}` : text,
  }));
}

function rawLineDiff(a: string[], b: string[]): DiffLine[] {
  if (a.length * b.length > 4_000_000)
    return [...a.map((text) => ({ op: '-' as const, text })), ...b.map((text) => ({ op: '+' as const, text }))];
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--)
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  }
  const out: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', text: a[i]! });
      i++;
      j++;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) out.push({ op: '-', text: a[i++]! });
    else out.push({ op: '+', text: b[j++]! });
  }
  while (i < a.length) out.push({ op: '-', text: a[i++]! });
  while (j < b.length) out.push({ op: '+', text: b[j++]! });
  return out;
}

/** Only the changed lines with `context` lines around them; long unchanged stretches fold into "…". */
export function hunks(lines: DiffLine[], context = 2): (DiffLine | { op: '…'; text: string })[] {
  const keep = new Set<number>();
  lines.forEach((l, i) => {
    if (l.op !== ' ')
      for (let k = Math.max(0, i - context); k <= Math.min(lines.length - 1, i + context); k++) keep.add(k);
  });
  const out: (DiffLine | { op: '…'; text: string })[] = [];
  let skipped = 0;
  lines.forEach((l, i) => {
    if (keep.has(i)) {
      if (skipped > 0) out.push({ op: '…', text: `${skipped} unchanged line${skipped === 1 ? '' : 's'}` });
      skipped = 0;
      out.push(l);
    } else skipped++;
  });
  if (skipped > 0) out.push({ op: '…', text: `${skipped} unchanged line${skipped === 1 ? '' : 's'}` });
  return out;
}

export const isMultiline = (v: unknown): v is string => typeof v === 'string' && v.includes('\n');

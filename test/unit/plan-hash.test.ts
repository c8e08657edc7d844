import { createHash } from 'node:crypto';
import { expect, it } from 'vitest';
import { type HashLine, hashSortedLines } from '../../src/plan/canonical.ts';

// The plan's registry, live and plan hashes are recorded in saved plans and apply records: hashing
// lines as head + tail must give exactly the digest of sorting and hashing the joined strings.
const naive = (lines: string[]) => {
  const hash = createHash('sha256');
  for (const line of [...lines].sort()) hash.update(line).update('\n');
  return hash.digest('hex');
};

it('hashes head + tail lines exactly as the sorted joined lines, whatever the heads share', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const alphabet = ['a', 'b', ' ', '0', 'é', '\u{1F600}', '\uD83D', '\uDE00', '\n', '~'];
  const char = () => alphabet[Math.floor(random() * alphabet.length)];
  const text = (max: number) => Array.from({ length: Math.floor(random() * max) }, char).join('');
  for (let round = 0; round < 200; round++) {
    const count = 1 + Math.floor(random() * 12);
    const lines: HashLine[] = Array.from({ length: count }, () => ({ head: text(4), tail: text(6) }));
    // Heads that are prefixes of others, and equal heads with different tails.
    lines.push({ head: lines[0]!.head.slice(0, 1), tail: text(3) }, { head: lines[0]!.head, tail: text(3) });
    const expected = naive(lines.map((l) => l.head + l.tail));
    expect(hashSortedLines(lines.map((l) => ({ ...l }))), JSON.stringify(lines)).toBe(expected);
  }
});

it('keeps a surrogate pair whole when it straddles head and tail', () => {
  const lines = [
    { head: 'x \uD83D', tail: '\uDE00 rest' },
    { head: 'a', tail: '' },
  ];
  expect(hashSortedLines(lines)).toBe(naive(['x \u{1F600} rest', 'a']));
});

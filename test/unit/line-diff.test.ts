import { describe, expect, it } from 'vitest';
import { lineDiff, noNewlineMark, textLines } from '../../src/render/plan/line-diff.ts';

describe('line diff of exact text', () => {
  it('shows no phantom empty line after a final newline', () => {
    expect(textLines('a\nb\n')).toEqual(['a', 'b']);
    expect(textLines('a\nb')).toEqual(['a', 'b']);
    expect(textLines('a\n\n')).toEqual(['a', '']);
    expect(lineDiff('a\nb\n', 'a\nc\n')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'c' },
    ]);
  });

  it('names a trailing newline that was removed or added, which a model would see', () => {
    expect(lineDiff('a\nb\n', 'a\nb')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: `b${noNewlineMark}` },
    ]);
    expect(lineDiff('x', 'x\n\n').filter((l) => l.op !== ' ')).toEqual([
      { op: '-', text: `x${noNewlineMark}` },
      { op: '+', text: 'x' },
      { op: '+', text: '' },
    ]);
  });
});

describe('line diff when both texts end the same way', () => {
  it('does not mark last lines when neither side has a final newline', () => {
    expect(lineDiff('a\nb', 'a\nc')).toEqual([
      { op: ' ', text: 'a' },
      { op: '-', text: 'b' },
      { op: '+', text: 'c' },
    ]);
  });
});

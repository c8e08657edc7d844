import { getHeapStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { garbageCollector } from '../../src/apply/memory.ts';

describe("apply's garbage collection between statements", () => {
  it('collects once the parameters sent pass the threshold, and not before', () => {
    const sent = garbageCollector(1000);
    let garbage: { id: number; text: string }[] | null = Array.from({ length: 400_000 }, (_, id) => ({
      id,
      text: `row ${id}`,
    }));
    expect(garbage).toHaveLength(400_000);
    garbage = null;
    const before = getHeapStatistics().used_heap_size;
    sent(['x'.repeat(999)]);
    const notYet = getHeapStatistics().used_heap_size;
    sent(['x']);
    const after = getHeapStatistics().used_heap_size;
    // 400,000 small objects are well over 10 MB; below the threshold nothing was collected.
    expect(before - notYet).toBeLessThan(5_000_000);
    expect(notYet - after).toBeGreaterThan(10_000_000);
  });
});

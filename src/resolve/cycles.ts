/** An edge of a relation that must stay acyclic, with what to point at when it closes a cycle. */
export interface Edge<Where> {
  from: string;
  to: string;
  where: Where;
}

/**
 * Every elementary cycle reachable in the graph, each found once (Tarjan's strongly connected
 * components, then one cycle walked inside each component), iteratively so deep chains cannot
 * overflow the stack. Returns the cycle's nodes in order and the edge that closes it.
 */
export function findCycles<Where>(edges: readonly Edge<Where>[]): { nodes: string[]; closing: Edge<Where> }[] {
  const out = new Map<string, Edge<Where>[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const start of [...out.keys()].sort()) {
    if (index.has(start)) continue;
    const work: { node: string; next: number }[] = [{ node: start, next: 0 }];
    index.set(start, counter);
    low.set(start, counter);
    counter++;
    stack.push(start);
    onStack.add(start);
    while (work.length > 0) {
      const frame = work[work.length - 1]!;
      const successors = out.get(frame.node) ?? [];
      if (frame.next < successors.length) {
        const to = successors[frame.next++]!.to;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter);
          counter++;
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) low.set(frame.node, Math.min(low.get(frame.node)!, index.get(to)!));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.node, Math.min(low.get(parent.node)!, low.get(frame.node)!));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        let member: string;
        do {
          member = stack.pop()!;
          onStack.delete(member);
          component.push(member);
        } while (member !== frame.node);
        const selfLoop = (out.get(frame.node) ?? []).some((e) => e.to === frame.node);
        if (component.length > 1 || selfLoop) components.push(component);
      }
    }
  }
  return components.map((component) => cycleWithin(new Set(component), out));
}

function cycleWithin<Where>(
  members: Set<string>,
  out: Map<string, Edge<Where>[]>,
): { nodes: string[]; closing: Edge<Where> } {
  const start = [...members].sort()[0]!;
  const path = [start];
  const seen = new Set([start]);
  let current = start;
  for (;;) {
    const edges = (out.get(current) ?? []).filter((e) => members.has(e.to));
    const closing = edges.find((e) => e.to === start);
    if (closing) return { nodes: path, closing };
    const next = edges.find((e) => !seen.has(e.to)) ?? edges[0]!;
    current = next.to;
    if (seen.has(current)) {
      // Walked into a loop that does not pass through start: report that loop instead.
      const from = path.indexOf(current);
      return { nodes: path.slice(from), closing: next };
    }
    seen.add(current);
    path.push(current);
  }
}

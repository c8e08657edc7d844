/**
 * An upper estimate of how deeply a YAML text nests, computed in one pass without parsing.
 *
 * Why: the `yaml` parser recurses per nesting level. Past a few thousand levels V8 can run out of
 * stack inside its own regular-expression compiler, which aborts the whole process (uncatchable). So
 * hostile depth is refused before the parser sees it. Block nesting counts distinct indentation levels
 * plus compact `- - -` indicators; flow nesting counts brackets that open a flow collection.
 */
export function nestingEstimate(text: string, stopAt: number): { depth: number; offset: number } {
  const indents: number[] = [];
  let flow = 0;
  let quote: '"' | "'" | null = null;
  let offset = 0;
  let blockScalarParent = -1;
  for (const line of text.split('\n')) {
    const lineStart = offset;
    offset += line.length + 1;
    const indent = line.length - line.trimStart().length;
    const content = line.slice(indent);
    if (blockScalarParent >= 0) {
      if (content === '' || indent > blockScalarParent) continue;
      blockScalarParent = -1;
    }
    if (flow === 0 && quote === null && /(^|[:-]\s+|^-\s+)[|>][-+0-9]*\s*(#.*)?$/.test(content))
      blockScalarParent = indent;
    if (flow === 0 && quote === null) {
      if (content === '' || content.startsWith('#')) continue;
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
    }
    let compact = 0;
    let valueStart = flow === 0;
    for (let i = 0; i < content.length; i++) {
      const c = content[i]!;
      if (quote) {
        if (c === quote) quote = null;
        continue;
      }
      if (c === '#' && (i === 0 || content[i - 1] === ' ')) break;
      if (flow > 0 && (c === '"' || c === "'")) {
        quote = c;
        continue;
      }
      if (valueStart && (c === '-' || c === '?') && (content[i + 1] === ' ' || i + 1 === content.length)) {
        compact++;
        if (indents.length + compact + flow > stopAt)
          return { depth: indents.length + compact + flow, offset: lineStart + indent + i };
        continue;
      }
      if (c === ' ') continue;
      if ((c === '[' || c === '{') && (flow > 0 || valueStart)) {
        flow++;
        valueStart = false;
      } else if ((c === ']' || c === '}') && flow > 0) flow--;
      else if (c === ':' && content[i + 1] === ' ' && flow === 0) {
        valueStart = true;
        continue;
      } else if (flow === 0) valueStart = false;
      const depth = indents.length + compact + flow;
      if (depth > stopAt) return { depth, offset: lineStart + indent + i };
    }
    const depth = indents.length + compact + flow;
    if (depth > stopAt) return { depth, offset: lineStart + indent };
  }
  return { depth: 0, offset: 0 };
}

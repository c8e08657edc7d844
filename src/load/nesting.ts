/**
 * An upper estimate of how deeply a YAML text nests, from the lexemes of the `yaml` package's own
 * lexer (the ones the parser is then fed, so the text is lexed once), stopping as soon as it passes `stopAt`.
 *
 * Why: the `yaml` composer recurses per nesting level. Past a few thousand levels V8 can run out of
 * stack inside its own regular-expression compiler, which aborts the whole process (uncatchable). So
 * hostile depth is refused before the composer sees it. The lexer is iterative and knows YAML's
 * scalars (quoted over several lines, block scalars with anchors and tags), so a `[` or `- ` inside
 * text is never counted, only indicators are: block nesting counts distinct indentation levels plus
 * `- ` and `? ` indicators on a line; flow nesting counts open brackets. Each document starts afresh.
 */
export function nestingEstimate(lexemes: Iterable<string>, stopAt: number): { depth: number; offset: number } {
  let indents: number[] = [];
  let flow = 0;
  let compact = 0;
  let offset = 0;
  let lineStart = true;
  let indent = 0;
  for (const lexeme of lexemes) {
    const start = offset;
    // Control lexemes (document start, scalar, flow end, BOM) are one character that is not in the source.
    if (lexeme.length === 1 && lexeme < ' ' && lexeme !== '\n' && lexeme !== '\t') continue;
    offset += lexeme.length;
    if (lexeme.endsWith('\n') && !/[^\s]/.test(lexeme)) {
      lineStart = true;
      indent = 0;
      continue;
    }
    if (lineStart && /^ +$/.test(lexeme)) {
      indent = lexeme.length;
      continue;
    }
    const first = lineStart;
    lineStart = lexeme.endsWith('\n');
    if (lineStart) indent = 0;
    if (first && (lexeme === '---' || lexeme === '...')) {
      indents = [];
      flow = 0;
      compact = 0;
      continue;
    }
    if (first && flow === 0 && !lexeme.startsWith('#')) {
      while (indents.length > 0 && indents[indents.length - 1]! >= indent) indents.pop();
      indents.push(indent);
      compact = 0;
    }
    if (lexeme === '[' || lexeme === '{') flow++;
    else if (lexeme === ']' || lexeme === '}') flow = Math.max(0, flow - 1);
    else if ((lexeme === '-' || lexeme === '?') && flow === 0) compact++;
    else if (!first) continue;
    const depth = indents.length + compact + flow;
    if (depth > stopAt) return { depth, offset: start };
  }
  return { depth: 0, offset: 0 };
}

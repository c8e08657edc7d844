/**
 * GitHub Actions expressions (`${{ … }}` and `if:`), as much of the language as Canon's workflows
 * use: literals, context paths, ! == != && ||, parentheses, format(), success(), failure(), always().
 * Comparison and truthiness follow GitHub's rules: strings compare case-insensitively, values of
 * different types compare as numbers (null and '' are 0), and a missing property is null.
 */
export type Value = string | number | boolean | null | { [key: string]: Value } | Value[];
export type Contexts = Record<string, Value> & { status?: 'success' | 'failure' };

const tokenPattern = /\s*(?:(\d+(?:\.\d+)?)|'((?:[^']|'')*)'|(==|!=|&&|\|\||[!().,[\]])|([A-Za-z_][A-Za-z0-9_-]*))/y;

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  tokenPattern.lastIndex = 0;
  while (tokenPattern.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(tokenPattern.lastIndex))) break;
    const start = tokenPattern.lastIndex;
    const m = tokenPattern.exec(text);
    if (!m) throw new Error(`cannot read the expression ${JSON.stringify(text)} at ${start}`);
    tokens.push(m[1] ?? (m[2] !== undefined ? `'${m[2]}` : (m[3] ?? m[4]!)));
  }
  return tokens;
}

const toNumber = (v: Value): number => {
  if (v === null) return 0;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') return v.trim() === '' ? 0 : Number(v);
  return NaN;
};

export function equal(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === typeof b && typeof a !== 'object') return a === b;
  if (a === null && b === null) return true;
  return toNumber(a) === toNumber(b);
}

export const truthy = (v: Value) => !(v === false || v === null || v === '' || v === 0 || Number.isNaN(v));

export function toText(v: Value): string {
  if (v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function evaluate(expression: string, contexts: Contexts): Value {
  const tokens = tokenize(expression);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t !== expected) throw new Error(`expected ${expected} in ${expression}`);
    return t!;
  };
  const or = (): Value => {
    let v = and();
    while (peek() === '||') {
      take();
      const r = and();
      v = truthy(v) ? v : r;
    }
    return v;
  };
  const and = (): Value => {
    let v = comparison();
    while (peek() === '&&') {
      take();
      const r = comparison();
      v = truthy(v) ? r : v;
    }
    return v;
  };
  const comparison = (): Value => {
    let v = unary();
    while (peek() === '==' || peek() === '!=') {
      const op = take();
      const r = unary();
      v = op === '==' ? equal(v, r) : !equal(v, r);
    }
    return v;
  };
  const unary = (): Value => (peek() === '!' ? (take(), !truthy(unary())) : primary());
  const primary = (): Value => {
    const t = take();
    if (t === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.startsWith("'")) return t.slice(1).replace(/''/g, "'");
    if (/^\d/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (peek() === '(') return call(t);
    let v: Value = contexts[t] ?? null;
    for (;;) {
      if (peek() === '.') {
        take();
        v = property(v, take());
      } else if (peek() === '[') {
        take();
        v = property(v, toText(or()));
        take(']');
      } else break;
    }
    return v;
  };
  const property = (v: Value, key: string): Value => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return null;
    return Object.entries(v).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1] ?? null;
  };
  const call = (name: string): Value => {
    take('(');
    const args: Value[] = [];
    while (peek() !== ')') {
      args.push(or());
      if (peek() === ',') take();
    }
    take(')');
    switch (name) {
      case 'success':
        return contexts.status !== 'failure';
      case 'failure':
        return contexts.status === 'failure';
      case 'always':
        return true;
      case 'format':
        return toText(args[0]!).replace(/\{(\d+)\}/g, (_, n: string) => toText(args[Number(n) + 1] ?? null));
      default:
        throw new Error(`function ${name}() is not supported by this evaluator`);
    }
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]} in ${expression}`);
  return value;
}

/** `text ${{ expr }} more` with every expression replaced by its value as text. */
export const interpolate = (text: string, contexts: Contexts) =>
  text.replace(/\$\{\{(.*?)\}\}/gs, (_, e: string) => toText(evaluate(e, contexts)));

/** An `if:` condition: an expression with or without `${{ }}`; steps run on success() unless it says otherwise. */
export function condition(text: string | undefined, contexts: Contexts): boolean {
  const expression = (text ?? 'success()').trim().replace(/^\$\{\{(.*)\}\}$/s, '$1');
  const asksStatus = /\b(success|failure|always|cancelled)\(\)/.test(expression);
  return truthy(evaluate(asksStatus ? expression : `success() && (${expression})`, contexts));
}

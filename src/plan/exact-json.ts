/**
 * JSON numbers are arbitrary-precision in jsonb, doubles in JavaScript. An integer beyond 2^53 that a
 * double cannot hold (YAML's `9007199254740993`, read as a bigint by the loader) is carried in the
 * plan's canonical values as a marker string, `"\0bigint:9007199254740993"`: states stay plain JSON
 * (hashing and comparing them is JSON.stringify, as before), and the writers below turn the marker
 * back into the number. No real string can collide with it: U+0000 is refused in every registry
 * string (CANON113) and PostgreSQL text and jsonb cannot hold it.
 */
const markerPrefix = '\0bigint:';
const markerInJson = /"\\u0000bigint:(-?\d+)"/g;

/**
 * The canonical form of an integer read exactly: a number when a double denotes the same decimal
 * (so `1e20` written either way compares equal), else the marker.
 */
export function canonicalInteger(value: bigint): number | string {
  const n = Number(value);
  return integerText(n) === value.toString() ? n : `${markerPrefix}${value}`;
}

/** A double's shortest decimal written out as an integer's digits (`1.5e+300` → `15` and 299 zeros). */
function integerText(n: number): string {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:e\+(\d+))?$/.exec(String(n));
  if (!match) return String(n);
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  const zeros = Number(exponent) - fraction.length;
  if (zeros < 0) return String(n);
  return `${sign}${whole}${fraction}${'0'.repeat(zeros)}`.replace(/^(-?)0+(?=\d)/, '$1');
}

/** JSON.stringify, with exact integers written as the numbers they are. */
export function exactJson(value: unknown, space?: number): string {
  const text = JSON.stringify(value, null, space);
  return text?.includes('\\u0000bigint:') ? text.replace(markerInJson, '$1') : text;
}

const token = /\s*(?:("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([[\]{}:,])|(true|false|null))/y;

/**
 * JSON.parse that keeps integers beyond 2^53 exact (as `canonicalInteger` gives them). PostgreSQL
 * prints jsonb as JSON; only a text with a 16-digit run can hold such an integer, so any other text
 * takes the native parser.
 */
export function parseExactJson(text: string): unknown {
  if (!/\d{16}/.test(text)) return JSON.parse(text);
  token.lastIndex = 0;
  const read = () => {
    const at = token.lastIndex;
    const m = token.exec(text);
    if (!m) throw new SyntaxError(`bad JSON at ${at}`);
    return m;
  };
  // Containers being filled, with the key awaiting its value when the container is an object.
  const stack: { container: unknown[] | Record<string, unknown>; key?: string }[] = [];
  let result: unknown;
  const place = (value: unknown) => {
    const top = stack[stack.length - 1];
    if (!top) result = value;
    else if (Array.isArray(top.container)) top.container.push(value);
    else top.container[top.key!] = value;
  };
  do {
    const m = read();
    const [, string, number, punctuation, literal] = m;
    if (string !== undefined) {
      const top = stack[stack.length - 1];
      const value = JSON.parse(string) as string;
      if (top && !Array.isArray(top.container) && top.key === undefined) {
        top.key = value;
        read(); // the colon
        continue;
      }
      place(value);
    } else if (number !== undefined) {
      place(
        /^-?\d+$/.test(number) && !Number.isSafeInteger(Number(number))
          ? canonicalInteger(BigInt(number))
          : Number(number),
      );
    } else if (literal !== undefined) place(literal === 'true' ? true : literal === 'false' ? false : null);
    else if (punctuation === '[' || punctuation === '{') {
      const container = punctuation === '[' ? [] : Object.create(null);
      place(container);
      stack.push({ container });
      continue;
    } else if (punctuation === ']' || punctuation === '}') stack.pop();
    else continue; // a comma
    const top = stack[stack.length - 1];
    if (top && !Array.isArray(top.container)) top.key = undefined;
  } while (stack.length > 0);
  return result;
}

/** The value with every exact-integer marker turned into a bigint: for writers that know bigints (YAML). */
export function withBigInts(value: unknown): unknown {
  if (typeof value === 'string')
    return value.startsWith(markerPrefix) ? BigInt(value.slice(markerPrefix.length)) : value;
  if (Array.isArray(value)) return value.map(withBigInts);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withBigInts(v)]));
  return value;
}

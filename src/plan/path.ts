/**
 * Where a field change is, as segments: a property or JSON key, or a relation entry named by its key
 * (`tools[pubmed-search]`). A key `"a.b"` and a nested `a: {b: …}` are different paths, so the plan
 * keeps segments and renders them unambiguously: a key with a dot, a bracket, a quote, white space
 * or a control character (or an empty key) is written as a JSON string, `model_config."a.b"`.
 */
export type PathSegment = string | { entry: string };

const plainKey = /^[^.[\]"'\s\p{Cc}\\]+$/u;
const plainEntry = /^[^[\]"\s\p{Cc}\\]+$/u;

const keyText = (key: string) => (plainKey.test(key) ? key : JSON.stringify(key));
const entryText = (label: string) => `[${plainEntry.test(label) ? label : JSON.stringify(label)}]`;

/** The path as every renderer prints it: `model_config."a.b"`, `tools[pubmed-search].usage`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'string') out += out === '' ? keyText(s) : `.${keyText(s)}`;
    else out += entryText(s.entry);
  }
  return out;
}

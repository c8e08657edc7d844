import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { defaultLimits } from '../../load/parse.ts';
import { filesOf, type ImportedDocument } from '../documents.ts';
import { fileText } from '../write.ts';

/** Well under the loader's per-file limit, so that a file may grow by hand edits too. */
const partBytes = Math.floor(defaultLimits.maxFileBytes / 2);

/**
 * Like `canon import` writes (one file per tenant and kind, documents sorted by id), except that a file
 * that would pass half of the loader's size limit is split: `personas.yaml`, `personas.2.yaml` … in id
 * order. A legacy table of thousands of rows otherwise makes a file `canon validate` refuses (CANON104).
 */
export function writeLegacyImport(dir: string, documents: ImportedDocument[]): string[] {
  const written: string[] = [];
  // fileText is the header and the documents' YAML joined by '---': each document is stringified once.
  const header = fileText([]);
  for (const [file, list] of filesOf(documents)) {
    const parts: string[][] = [[]];
    let size = 0;
    for (const doc of list) {
      const text = fileText([doc]).slice(header.length);
      const bytes = Buffer.byteLength(text) + 4;
      if (size + bytes > partBytes && parts.at(-1)!.length > 0) {
        parts.push([]);
        size = 0;
      }
      parts.at(-1)!.push(text);
      size += bytes;
    }
    parts.forEach((part, i) => {
      const name = i === 0 ? file : file.replace(/\.yaml$/, `.${i + 1}.yaml`);
      mkdirSync(dirname(join(dir, name)), { recursive: true });
      writeFileSync(join(dir, name), header + part.join('---\n'));
      written.push(name);
    });
  }
  return written;
}

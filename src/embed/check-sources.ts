import { type Diagnostic, error } from '../diagnostics/diagnostic.ts';
import { locate } from '../load/document.ts';
import type { KindedDocument } from '../validate/validate.ts';
import { readSourceText } from './source.ts';

/** Validate's part of chunking: every knowledge file named by an asset exists, is readable and parses. */
export function checkSourceTexts(documents: readonly KindedDocument[], registryDir: string): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  for (const { doc, model, value, valid } of documents) {
    if (!model.chunks || !valid) continue;
    const { problem } = readSourceText(model.chunks, value, registryDir);
    if (problem) diagnostics.push(error(problem.code, locate(doc, [problem.property]), problem.message));
  }
  return diagnostics;
}

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/temp.ts';

/** A paragraph of the fixture guide: distinct words per section, so search can tell them apart. */
export const paragraphText = (section: number, i: number, topic: string) =>
  `In ${topic}, step ${section}.${i} asks the team to record what was decided and why, with the date and the owner. ` +
  `Reviewers check step ${section}.${i} against the ${topic} procedure before the next stage starts.`;

export const topics = ['pharmacovigilance', 'labelling', 'manufacturing', 'distribution'];

/** A markdown guide of `sections` sections with `paragraphs` paragraphs each. */
export function guide(sections = 4, paragraphs = 25): string {
  return topics
    .slice(0, sections)
    .map(
      (topic, s) =>
        `# ${topic[0]!.toUpperCase()}${topic.slice(1)}\n\n${Array.from({ length: paragraphs }, (_, i) => paragraphText(s, i, topic)).join('\n\n')}\n`,
    )
    .join('\n');
}

/**
 * A small registry with one platform knowledge source read from docs/guide.md, a tenant, and that
 * tenant's private source with inline content: quick to apply, and enough for chunking, jobs and search.
 */
export function knowledgeRegistry(options: { model?: string; maxTokens?: number; baseUrl?: string } = {}): string {
  const dir = join(tempDir('canon-knowledge-'), 'registry');
  mkdirSync(join(dir, 'docs'), { recursive: true });
  const provider = options.baseUrl
    ? `  provider: openai\n  base_url: ${options.baseUrl}\n  api_key_env: FAKE_EMBEDDINGS_KEY\n`
    : '';
  writeFileSync(
    join(dir, 'canon.yaml'),
    `embeddings:\n  model: ${options.model ?? 'fake-embed-1'}\n  dimensions: 8\n${provider}` +
      `chunking:\n  max_tokens: ${options.maxTokens ?? 120}\n  overlap: 0\n`,
  );
  writeFileSync(join(dir, 'docs', 'guide.md'), guide());
  writeFileSync(
    join(dir, 'assets.yaml'),
    `kind: Tenant
id: acme
name: Acme
---
kind: Tenant
id: globex
name: Globex
---
kind: KnowledgeSource
id: sop-guide
name: Standard operating procedures
description: The platform's procedures guide
file_path: docs/guide.md
is_public: true
---
kind: KnowledgeSource
id: acme-secret-formula
tenant: acme
name: Acme formulation notes
access_level: private
content: |
  # Formulation
  The zircon excipient ratio for Acme tablets is confidential and must never leave Acme.
`,
  );
  return dir;
}

export function editFile(dir: string, file: string, from: string, to: string) {
  const path = join(dir, file);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`${file} does not contain ${JSON.stringify(from)}`);
  writeFileSync(path, text.replace(from, to));
}

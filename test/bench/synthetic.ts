import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';

/**
 * Writes a synthetic registry of about `count` assets with the example registry's proportions:
 * multi-line prompts and system prompts, 1–3 industries each, references between kinds, some
 * tenant-private assets. Deterministic (a seeded generator), so runs are comparable.
 */
export function writeSyntheticRegistry(dir: string, count: number, seed = 1): { assets: number; files: number } {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let state = seed;
  const random = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const industries = ['pharmaceuticals', 'digital-health', 'biotech', 'medical-devices'];
  const tenants = ['t-alpha', 't-beta', 't-gamma', 't-delta'];
  const paragraph = (n: number) =>
    Array.from(
      { length: n },
      (_, i) => `Line ${i + 1}: follow the standard operating procedure, cite every source and flag uncertainty.`,
    ).join('\n') + '\n';
  const industriesOf = () =>
    [...new Set([pick(industries), pick(industries)])].map((industry, i) => ({ industry, primary: i === 0 }));

  const docs: Record<string, unknown>[] = [];
  for (const id of industries) docs.push({ kind: 'Industry', id, name: id });
  tenants.forEach((id, i) =>
    docs.push({
      kind: 'Tenant',
      id,
      name: id,
      ...(i > 0 ? { parent: tenants[0] } : {}),
      allowed_industries: industries,
    }),
  );
  const perKind = Math.max(1, Math.floor((count - docs.length) / 10));
  const ids = (prefix: string) => Array.from({ length: perKind }, (_, i) => `${prefix}-${i}`);
  const [roles, personas, prompts, skills, tools, sources, jobs, useCases, workflows, agents] = [
    'role',
    'persona',
    'prompt',
    'skill',
    'tool',
    'source',
    'job',
    'use-case',
    'workflow',
    'agent',
  ].map(ids) as string[][];
  for (const id of roles!) docs.push({ kind: 'Role', id, name: `Role ${id}`, description: paragraph(1) });
  for (const id of personas!)
    docs.push({
      kind: 'Persona',
      id,
      name: `Persona ${id}`,
      persona_type: 'professional',
      description: paragraph(2),
      industries: industriesOf(),
      roles: [pick(roles!)],
      goals: [{ id: 'g1', description: 'Ship faster' }],
    });
  for (const id of prompts!)
    docs.push({
      kind: 'Prompt',
      id,
      name: `Prompt ${id}`,
      content: paragraph(8),
      complexity_level: 'Medium',
      variables: [{ name: 'topic', required: true }],
      industries: industriesOf(),
    });
  for (const id of skills!)
    docs.push({
      kind: 'Skill',
      id,
      name: `Skill ${id}`,
      skill_category: 'domain',
      description: paragraph(1),
      industries: industriesOf(),
    });
  for (const id of tools!)
    docs.push({
      kind: 'Tool',
      id,
      name: `Tool ${id}`,
      tool_category: 'api',
      endpoint_url: `https://api.example.com/${id}`,
      reliability_score: 0.95,
      industries: industriesOf(),
    });
  for (const id of sources!)
    docs.push({
      kind: 'KnowledgeSource',
      id,
      name: `Source ${id}`,
      source_type: 'document',
      content_type: 'pdf',
      tags: ['a', 'b'],
      industries: industriesOf(),
    });
  for (const id of jobs!)
    docs.push({
      kind: 'JobToBeDone',
      id,
      name: `Job ${id}`,
      job_statement: paragraph(1),
      industries: industriesOf(),
      personas: [pick(personas!)],
    });
  for (const id of useCases!)
    docs.push({
      kind: 'UseCase',
      id,
      name: `Use case ${id}`,
      description: paragraph(2),
      personas: [pick(personas!)],
      industries: industriesOf(),
    });
  for (const id of workflows!)
    docs.push({
      kind: 'Workflow',
      id,
      name: `Workflow ${id}`,
      description: paragraph(2),
      use_case: pick(useCases!),
      industries: industriesOf(),
      personas: [{ persona: pick(personas!), role_in_workflow: 'owner' }],
      jobs_to_be_done: [pick(jobs!)],
    });
  agents!.forEach((id, i) => {
    const tenant = i % 10 === 0 ? { tenant: pick(tenants) } : {};
    docs.push({
      kind: 'Agent',
      id,
      name: `Agent ${id}`,
      ...tenant,
      system_prompt: paragraph(12),
      model_config: { model: 'gpt-4.1', temperature: 0.2 },
      industries: industriesOf(),
      prompts: [...new Set([pick(prompts!), pick(prompts!)])],
      skills: [pick(skills!)],
      tools: [pick(tools!)],
      knowledge_sources: [pick(sources!)],
      personas: [pick(personas!)],
    });
  });
  const remaining = count - docs.length;
  for (let i = 0; i < remaining; i++) {
    const workflow = pick(workflows!);
    docs.push({
      kind: 'Task',
      id: `task-${i}`,
      name: `Task ${i}`,
      workflow,
      position: i,
      description: paragraph(2),
      industries: industriesOf(),
      ...(i > 0 && i % 3 !== 0 ? { depends_on: [`task-${i - 1}`] } : {}),
      orchestration: [
        { agent: pick(agents!.filter((_, k) => k % 10 !== 0)), prompt: pick(prompts!), execution_sequence: 1 },
      ],
    });
  }
  const perFile = 50;
  let files = 0;
  for (let start = 0; start < docs.length; start += perFile) {
    const chunk = docs.slice(start, start + perFile);
    writeFileSync(
      join(dir, `assets-${String(files).padStart(4, '0')}.yaml`),
      chunk.map((d) => stringify(d, { lineWidth: 0 })).join('---\n'),
    );
    files++;
  }
  return { assets: docs.length, files };
}

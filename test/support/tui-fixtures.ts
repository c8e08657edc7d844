import type { Diagnostic } from '../../src/diagnostics/diagnostic.ts';
import type { AssetChange, Plan } from '../../src/plan/model.ts';
import type { PlanView } from '../../src/tui/session-adapter.ts';

// Hand-made plans and diagnostics for the view's pure tests: small enough to read in the test.

export function change(
  action: AssetChange['action'],
  kind: string,
  id: string,
  fields: AssetChange['fields'] = [],
  file = 'registry/platform/x.yaml',
): AssetChange {
  return {
    action,
    kind,
    id,
    tenant: null,
    uuid: `uuid-${kind}-${id}`,
    table: `${kind.toLowerCase()}s`,
    source: action === 'delete' ? null : { file, line: 2, column: 5 },
    fields,
    version: 1,
  };
}

export function plan(changes: AssetChange[], extra: Partial<Plan> = {}): Plan {
  const count = (a: AssetChange['action']) => changes.filter((c) => c.action === a).length;
  return {
    formatVersion: '1',
    database: 'memory:',
    deleteMode: 'soft',
    gitCommit: null,
    schema: [],
    changes,
    summary: { create: count('create'), update: count('update'), delete: count('delete'), unchanged: 10 },
    registryHash: 'r',
    liveHash: 'l',
    planHash: `p-${changes.map((c) => c.id).join(',')}`,
    diagnostics: [],
    ...extra,
  };
}

export function diag(
  file: string,
  line: number,
  code: Diagnostic['code'],
  message: string,
  severity: Diagnostic['severity'] = 'error',
): Diagnostic {
  return { file, line, column: 3, code, message, severity };
}

export const view = (p: Plan | null, diagnostics: Diagnostic[] = []): PlanView => ({
  diagnostics,
  plan: p,
  assets: 12,
  files: 3,
  ms: 84,
});

/** An agent update with a scalar change and a multi-line prompt change; a prompt create; a tool delete. */
export const samplePlan = () =>
  plan([
    change(
      'update',
      'Agent',
      'msl-copilot',
      [
        { path: 'model_config.temperature', segments: ['model_config', 'temperature'], before: 0.2, after: 0.3 },
        {
          path: 'system_prompt',
          segments: ['system_prompt'],
          before: 'You are helpful.\nCite sources.\nBe brief.',
          after: 'You are helpful.\nCite every source.\nBe brief.',
        },
      ],
      'registry/platform/agents.yaml',
    ),
    change(
      'create',
      'Prompt',
      'new-summary',
      [{ path: 'name', segments: ['name'], before: null, after: 'New summary' }],
      'registry/platform/prompts.yaml',
    ),
    change('delete', 'Tool', 'old-search'),
  ]);

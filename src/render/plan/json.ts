import { describeSchemaChange, isPolicyChange, type SchemaChange } from '../../migrate/changes.ts';
import { exactJson } from '../../plan/exact-json.ts';
import type { Plan } from '../../plan/model.ts';
import { diagnosticJson } from '../diagnostics.ts';

/**
 * The machine format, versioned by `format_version` (bumped on any incompatible change). Also the
 * saved-plan file: `canon apply plan.json` checks its `database_id` and `plan_hash` (which covers the
 * database id too, so editing one without the other is caught).
 */
export function planJson(plan: Plan) {
  return {
    format_version: plan.formatVersion,
    database: plan.database,
    ...(plan.databaseSchema ? { database_schema: plan.databaseSchema } : {}),
    delete_mode: plan.deleteMode,
    git_commit: plan.gitCommit,
    database_id: plan.databaseId ?? null,
    plan_hash: plan.planHash,
    registry_hash: plan.registryHash,
    live_hash: plan.liveHash,
    summary: plan.summary,
    schema_changes: plan.schema
      .filter((c) => !isPolicyChange(c))
      .map((c) => ({
        action: c.kind,
        description: describeSchemaChange(c),
        destructive: c.destructive,
        ...('reason' in c && c.reason ? { reason: c.reason } : {}),
      })),
    policy_changes: plan.schema.filter(isPolicyChange).map(policyJson),
    changes: plan.changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      id: c.id,
      tenant: c.tenant,
      uuid: c.uuid,
      source: c.source ? { file: c.source.file, line: c.source.line, column: c.source.column } : null,
      ...(c.restore ? { restore: true } : {}),
      ...(c.adopt ? { adopt: true } : {}),
      ...(c.drift ? { drift: { paths: c.drift.paths, updated_at: c.drift.updatedAt } } : {}),
      fields: c.fields,
    })),
    knowledge: plan.knowledge
      ? {
          sources: plan.knowledge.sources,
          totals: plan.knowledge.totals,
          model: plan.knowledge.model,
          dimensions: plan.knowledge.dimensions,
          embeddings_off: plan.knowledge.embeddingsOff ?? null,
        }
      : null,
    diagnostics: plan.diagnostics.map(diagnosticJson),
  };
}

export const renderPlanJson = (plan: Plan) => `${exactJson(planJson(plan), 2)}\n`;

function policyJson(c: SchemaChange) {
  const where =
    c.kind === 'createPolicy'
      ? { table: c.spec.table, policy: c.spec.name, command: c.spec.command, grants: c.spec.grants }
      : c.kind === 'dropPolicy'
        ? { table: c.table, policy: c.name }
        : c.kind === 'enableRls'
          ? { table: c.table }
          : c.kind === 'setPrivileges'
            ? { table: c.privileges.table, role: c.role }
            : c.kind === 'createTrigger'
              ? { table: c.guard.table, trigger: c.name }
              : c.kind === 'dropTrigger'
                ? { table: c.table, trigger: c.name }
                : c.kind === 'createFunction'
                  ? { function: c.spec.name }
                  : c.kind === 'dropFunction'
                    ? { function: c.name }
                    : {};
  return {
    action: c.kind,
    description: describeSchemaChange(c),
    widens_access: 'widens' in c ? c.widens : false,
    drift: 'drift' in c ? c.drift : false,
    ...where,
  };
}

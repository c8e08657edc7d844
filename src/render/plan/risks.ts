import { thousands } from '../../embed/summary.ts';
import type { SchemaChange } from '../../migrate/changes.ts';
import { describeSchemaChange, driftNote, isPolicyChange, widensNote } from '../../migrate/changes.ts';
import type { Plan } from '../../plan/model.ts';
import { assetTitle, driftText } from './text.ts';

/**
 * What a reviewer must not miss in a plan, in the order they are shown: each with the count, what it
 * touches, and what apply needs before it does it. Renderers show every risk, however long the plan.
 */
export interface Risk {
  kind: 'delete' | 'destructive-schema' | 'widening-policy' | 'policy-drift' | 'row-drift' | 'adopt' | 'embedding';
  /** One sentence with the count, e.g. "2 assets will be deleted (soft: deleted_at is set)". */
  title: string;
  /** What it touches, one short phrase each; renderers show the first few and count the rest. */
  items: string[];
  /** What apply needs for it, when it needs anything. */
  hint?: string;
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const plain = (c: SchemaChange) => describeSchemaChange(c).replace(widensNote, '').replace(driftNote, '');

type Detector = (plan: Plan) => Risk | undefined;

function deletes(plan: Plan): Risk | undefined {
  const deleted = plan.changes.filter((c) => c.action === 'delete');
  if (deleted.length === 0) return undefined;
  const n = count(deleted.length, 'asset', 'assets');
  return {
    kind: 'delete',
    title:
      plan.deleteMode === 'hard'
        ? `${n} will be hard-deleted (rows and relation rows removed for good)`
        : `${n} will be deleted (soft: deleted_at is set, the rows stay)`,
    items: deleted.map((c) => assetTitle(c)),
    hint: 'apply needs --allow-delete',
  };
}

function destructiveSchema(plan: Plan): Risk | undefined {
  const destructive = plan.schema.filter((c) => c.destructive);
  if (destructive.length === 0) return undefined;
  return {
    kind: 'destructive-schema',
    title: `${count(destructive.length, 'destructive schema change', 'destructive schema changes')} can lose data`,
    items: destructive.map((c) => `${plain(c)}${'reason' in c && c.reason ? ` (${c.reason})` : ''}`),
    hint: 'apply needs --allow-destructive',
  };
}

function wideningPolicies(plan: Plan): Risk | undefined {
  const widening = plan.schema.filter((c) => isPolicyChange(c) && 'widens' in c && c.widens);
  if (widening.length === 0) return undefined;
  return {
    kind: 'widening-policy',
    title: `${count(widening.length, 'policy change widens', 'policy changes widen')} what tenants can access`,
    items: widening.map(plain),
  };
}

function policyDrift(plan: Plan): Risk | undefined {
  const drifted = plan.schema.filter((c) => isPolicyChange(c) && 'drift' in c && c.drift);
  if (drifted.length === 0) return undefined;
  return {
    kind: 'policy-drift',
    title:
      `${count(drifted.length, 'row-level security object was', 'row-level security objects were')} ` +
      `changed outside Canon (drift); the plan overwrites ${drifted.length === 1 ? 'it' : 'them'}`,
    items: drifted.map(plain),
  };
}

function rowDrift(plan: Plan): Risk | undefined {
  const drifted = plan.changes.filter((c) => c.drift);
  if (drifted.length === 0) return undefined;
  return {
    kind: 'row-drift',
    title:
      `${count(drifted.length, 'row was', 'rows were')} changed in the database since the last apply ` +
      `(outside Canon); the plan overwrites ${drifted.length === 1 ? 'it' : 'them'}`,
    items: drifted.map((c) => `${assetTitle(c)}: ${driftText(c)}`),
    hint: "'canon drift --write' takes the database's values into the registry instead",
  };
}

function adoptions(plan: Plan): Risk | undefined {
  const adopted = plan.changes.filter((c) => c.adopt);
  if (adopted.length === 0) return undefined;
  return {
    kind: 'adopt',
    title:
      `${count(adopted.length, 'existing row', 'existing rows')} that Canon did not manage ` +
      `${adopted.length === 1 ? 'is' : 'are'} taken over by the registry`,
    items: adopted.map((c) => `${assetTitle(c)} (${c.uuid})`),
  };
}

/** Embedding re-runs cost the provider money and time after apply: counted with their token estimate. */
function embeddingRuns(plan: Plan): Risk | undefined {
  const k = plan.knowledge;
  if (!k || k.embeddingsOff || k.totals.jobs === 0) return undefined;
  const jobs = (x: number, one: string, many: string) => `${thousands(x)} ${x === 1 ? one : many}`;
  return {
    kind: 'embedding',
    title:
      `${jobs(k.totals.jobs, 'chunk is', 'chunks are')} (re-)embedded after apply, ` +
      `~${thousands(k.totals.tokens)} tokens for ${k.model}`,
    items: k.sources
      .filter((s) => s.jobs > 0)
      .map((s) => `${s.table}/${s.id}: ${jobs(s.jobs, 'job', 'jobs')} (~${thousands(s.tokens)} tokens)`),
    hint: "'canon embed' runs the jobs",
  };
}

/** The risk detectors, in display order; every renderer shows whatever this list returns. */
const detectors: Detector[] = [
  deletes,
  destructiveSchema,
  wideningPolicies,
  policyDrift,
  rowDrift,
  adoptions,
  embeddingRuns,
];

export const risksOf = (plan: Plan): Risk[] =>
  detectors.map((detect) => detect(plan)).filter((r): r is Risk => r !== undefined);

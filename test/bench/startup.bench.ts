// npm run bench:startup — whole-process start-up of the CLI against `node -e 0` and a bare
// parse-and-validate script, measured in the same run (interleaved, so load on the machine hits all
// of them alike). Prints medians and ratios; asserts nothing. BENCH_RUNS sets the runs per case.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const bin = join(repo, (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: { canon: string } }).bin.canon);

// A scratch copy of the example registry and schemas, so the parse and validator caches in
// .canon/cache can be emptied for cold runs without touching the repository's embedded database.
const work = mkdtempSync(join(tmpdir(), 'canon-bench-startup-'));
cpSync(join(repo, 'registry'), join(work, 'registry'), { recursive: true });
cpSync(join(repo, 'schemas'), join(work, 'schemas'), { recursive: true });
const emptyCache = () => rmSync(join(work, '.canon'), { recursive: true, force: true });

interface Case { name: string; args: string[]; before?: () => void }
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'canon --help', args: [bin, '--help'] },
  { name: 'bare parse + ajv', args: [join(repo, 'test', 'bench', 'bare-validate.mjs'), 'registry', 'schemas'] },
  { name: 'canon validate (cache warm)', args: [bin, 'validate'] },
  { name: 'canon validate (cache cold)', args: [bin, 'validate'], before: emptyCache },
];

function timeOnce(c: Case): number {
  c.before?.();
  const start = performance.now();
  const result = spawnSync(process.execPath, c.args, { cwd: work, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const elapsed = performance.now() - start;
  if (result.status !== 0) throw new Error(`${c.name} exited ${result.status}: ${result.stderr}${result.stdout}`);
  return elapsed;
}

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

try {
  for (const c of cases) timeOnce(c); // warm the OS file cache and fill .canon/cache
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const c of cases) times.get(c.name)!.push(timeOnce(c));
  const medianOf = (name: string) => median(times.get(name)!);
  const reference: Record<string, { name: string; goal?: number }> = {
    'canon --help': { name: 'node -e 0', goal: 1.5 },
    'canon validate (cache warm)': { name: 'bare parse + ajv', goal: 2 },
    'canon validate (cache cold)': { name: 'bare parse + ajv' },
  };
  console.log(`start-up, ${runs} runs each, bin ${bin.slice(repo.length + 1)}, node ${process.version}`);
  console.log('| case | median ms | min ms | ratio | goal |');
  console.log('|---|---:|---:|---:|---|');
  for (const c of cases) {
    const ref = reference[c.name];
    const ratio = ref ? medianOf(c.name) / medianOf(ref.name) : undefined;
    const goal = ref?.goal === undefined ? '' : `≤ ${ref.goal}× ${ref.name}: ${ratio! <= ref.goal ? 'met' : 'NOT met'}`;
    const ratioText = ratio === undefined ? '' : `${ratio.toFixed(2)}× ${ref!.name}`;
    console.log(`| ${c.name} | ${medianOf(c.name).toFixed(0)} | ${Math.min(...times.get(c.name)!).toFixed(0)} | ${ratioText} | ${goal} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

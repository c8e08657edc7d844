// npm run bench:startup — whole-process start-up of the CLI against `node -e 0` and a bare
// parse-and-validate script, measured in the same run (interleaved, so load on the machine hits all
// of them alike). Prints medians and ratios; asserts nothing. BENCH_RUNS sets the runs per case.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(import.meta.dirname, '..', '..');
const runs = Number(process.env.BENCH_RUNS ?? 15);
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: { canon: string } };
const bin = join(repo, manifest.bin.canon);

// A scratch copy of the example registry and schemas, so the caches (the parse cache in .canon/cache,
// compiled validators under XDG_CACHE_HOME) can be emptied for cold runs without touching the
// repository's embedded database or the user's own cache.
const work = mkdtempSync(join(tmpdir(), 'canon-bench-startup-'));
cpSync(join(repo, 'registry'), join(work, 'registry'), { recursive: true });
cpSync(join(repo, 'schemas'), join(work, 'schemas'), { recursive: true });
const userCache = join(work, 'user-cache');
const emptyParseCache = () => rmSync(join(work, '.canon'), { recursive: true, force: true });
const emptyCaches = () => {
  emptyParseCache();
  rmSync(userCache, { recursive: true, force: true });
};

interface Case {
  name: string;
  args: string[];
  before?: () => void;
}
const cases: Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'canon --help', args: [bin, '--help'] },
  { name: 'bare parse + ajv', args: [join(repo, 'test', 'bench', 'bare-validate.mjs'), 'registry', 'schemas'] },
  { name: 'canon validate (caches warm)', args: [bin, 'validate'] },
  { name: 'canon validate (parse cache cold)', args: [bin, 'validate'], before: emptyParseCache },
  { name: 'canon validate (no caches)', args: [bin, 'validate'], before: emptyCaches },
];

function timeOnce(c: Case): number {
  c.before?.();
  const start = performance.now();
  const env = { ...process.env, NO_COLOR: '1', XDG_CACHE_HOME: userCache };
  const result = spawnSync(process.execPath, c.args, { cwd: work, encoding: 'utf8', env });
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
  // Warms the OS file cache. Every validate run leaves both caches filled, so the order of the cases
  // (warm, then parse cache cold, then none) gives each warm run full caches.
  for (const c of cases) timeOnce(c);
  const times = new Map(cases.map((c) => [c.name, [] as number[]]));
  for (let i = 0; i < runs; i++) for (const c of cases) times.get(c.name)!.push(timeOnce(c));
  const medianOf = (name: string) => median(times.get(name)!);
  const reference: Record<string, { name: string; goal?: number }> = {
    'canon --help': { name: 'node -e 0', goal: 1.5 },
    'canon validate (caches warm)': { name: 'bare parse + ajv', goal: 2 },
    'canon validate (parse cache cold)': { name: 'bare parse + ajv' },
    'canon validate (no caches)': { name: 'bare parse + ajv' },
  };
  console.log(`start-up, ${runs} runs each, bin ${bin.slice(repo.length + 1)}, node ${process.version}`);
  console.log('| case | median ms | min ms | ratio | goal |');
  console.log('|---|---:|---:|---:|---|');
  for (const c of cases) {
    const ref = reference[c.name];
    const ratio = ref ? medianOf(c.name) / medianOf(ref.name) : undefined;
    const goal = ref?.goal === undefined ? '' : `≤ ${ref.goal}× ${ref.name}: ${ratio! <= ref.goal ? 'met' : 'NOT met'}`;
    const ratioText = ratio === undefined ? '' : `${ratio.toFixed(2)}× ${ref!.name}`;
    const fastest = Math.min(...times.get(c.name)!);
    console.log(`| ${c.name} | ${medianOf(c.name).toFixed(0)} | ${fastest.toFixed(0)} | ${ratioText} | ${goal} |`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

// npm run bench:cache — the parse cache's disk use and the cost of keeping it bounded; prints figures, asserts nothing.
// BENCH_FILES=100000 is the registry of issue 8 (one asset per file); BENCH_CACHE_MB sets the bound, BENCH_VARIANTS
// how many different registries share the cache (as branches would).
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadRegistry } from '../../src/load/load.ts';

const files = Number(process.env.BENCH_FILES ?? 20_000);
const maxBytes = Number(process.env.BENCH_CACHE_MB ?? 128) * 1024 * 1024;
const variants = Number(process.env.BENCH_VARIANTS ?? 3);
const root = mkdtempSync(join(tmpdir(), 'canon-bench-cache-'));
const cacheDir = join(root, 'cache');

function writeRegistry(dir: string, variant: number) {
  for (let i = 0; i < files; i++) {
    const folder = join(dir, `f${Math.floor(i / 1000)}`);
    if (i % 1000 === 0) mkdirSync(folder, { recursive: true });
    const text =
      `kind: Tool\nid: tool-${i}\nname: Tool ${i}\ntool_category: api\n` +
      `endpoint_url: https://api.example.com/${i}\n`;
    writeFileSync(join(folder, `tool-${i}.yaml`), `${text}# variant ${variant}\n`);
  }
}

function cacheSize(): { entries: number; mb: number } {
  let entries = 0;
  let bytes = 0;
  for (const shard of readdirSync(cacheDir, { withFileTypes: true })) {
    if (!shard.isDirectory()) continue;
    for (const name of readdirSync(join(cacheDir, shard.name))) {
      entries++;
      bytes += statSync(join(cacheDir, shard.name, name)).blocks * 512;
    }
  }
  return { entries, mb: bytes / 1024 / 1024 };
}

function timed(label: string, run: () => unknown) {
  const t = performance.now();
  run();
  const ms = performance.now() - t;
  const size = cacheSize();
  console.log(`| ${label} | ${ms.toFixed(0)} | ${size.entries} | ${size.mb.toFixed(1)} |`);
}

console.log(`${files} files, one asset each; cache bound ${(maxBytes / 1024 / 1024).toFixed(0)} MiB`);
console.log('| run | load ms | cache entries | cache MiB on disk |');
console.log('|---|---:|---:|---:|');
const options = { cacheDir, cacheMaxBytes: maxBytes };
for (let variant = 0; variant < variants; variant++) {
  const dir = join(root, `registry-${variant}`);
  writeRegistry(dir, variant);
  timed(`variant ${variant}: cold (every file new)`, () => loadRegistry(dir, options));
  timed(`variant ${variant}: warm (no file changed)`, () => loadRegistry(dir, options));
  appendFileSync(join(dir, 'f0', 'tool-0.yaml'), '# edited\n');
  timed(`variant ${variant}: one file edited`, () => loadRegistry(dir, options));
  rmSync(join(cacheDir, 'usage.json'), { force: true });
  appendFileSync(join(dir, 'f0', 'tool-1.yaml'), '# edited\n');
  timed(`variant ${variant}: one file edited, no usage record (full scan)`, () => loadRegistry(dir, options));
}
console.log(`Without the bound the cache would hold about ${variants * (files + 2)} entries.`);
rmSync(root, { recursive: true, force: true });

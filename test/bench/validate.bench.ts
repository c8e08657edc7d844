// npm run bench:validate — load, validate and resolve a synthetic registry; prints figures, asserts nothing.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKindCatalog } from '../../src/kinds/catalog.ts';
import { checkRegistry, checkRegistryAsync } from '../../src/pipeline/check.ts';
import { compileValidators } from '../../src/validate/ajv.ts';
import { writeSyntheticRegistry } from './synthetic.ts';

const sizes = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const t0 = performance.now();
const catalog = loadKindCatalog('schemas');
const validators = compileValidators(catalog);
console.log(`schemas: load + compile ${(performance.now() - t0).toFixed(0)} ms`);
console.log('| assets | files | load ms | validate ms | resolve ms | total ms | assets/s | errors |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const size of sizes) {
  const dir = join(mkdtempSync(join(tmpdir(), 'canon-bench-')), 'registry');
  const written = writeSyntheticRegistry(dir, size);
  let best: ReturnType<typeof checkRegistry> | undefined;
  let bestTotal = Infinity;
  for (let i = 0; i < runs; i++) {
    const result = checkRegistry(dir, catalog, { validators });
    const total = result.timings.loadMs + result.timings.validateMs + result.timings.resolveMs;
    if (total < bestTotal) {
      bestTotal = total;
      best = result;
    }
  }
  const t = best!.timings;
  const errors = best!.diagnostics.filter((d) => d.severity === 'error');
  console.log(
    `| ${best!.graph.assets.length} | ${written.files} | ${t.loadMs.toFixed(0)} | ${t.validateMs.toFixed(0)} | ${t.resolveMs.toFixed(0)} | ${bestTotal.toFixed(0)} | ${Math.round(best!.graph.assets.length / (bestTotal / 1000))} | ${errors.length} |`,
  );
  // What the CLI runs: the same check with parsing on worker threads (one per core) for a large registry.
  let threaded: Awaited<ReturnType<typeof checkRegistryAsync>> | undefined;
  for (let i = 0; i < runs; i++) {
    const result = await checkRegistryAsync(dir, catalog, { validators });
    const t = result.timings;
    const total = t.loadMs + t.validateMs + t.resolveMs;
    if (!threaded || total < threaded.timings.loadMs + threaded.timings.validateMs + threaded.timings.resolveMs)
      threaded = result;
  }
  const p = threaded!.timings;
  const threadedTotal = p.loadMs + p.validateMs + p.resolveMs;
  console.log(
    `| ${threaded!.graph.assets.length} (checkRegistryAsync) | ${written.files} | ${p.loadMs.toFixed(0)} | ${p.validateMs.toFixed(0)} | ${p.resolveMs.toFixed(0)} | ${threadedTotal.toFixed(0)} | ${Math.round(threaded!.graph.assets.length / (threadedTotal / 1000))} | ${threaded!.diagnostics.filter((d) => d.severity === 'error').length} |`,
  );
  // The same registry again with the parse cache warm (what the CLI does on a second run).
  const cacheDir = mkdtempSync(join(tmpdir(), 'canon-bench-cache-'));
  checkRegistry(dir, catalog, { validators, cacheDir });
  const warm = checkRegistry(dir, catalog, { validators, cacheDir });
  const w = warm.timings;
  const warmTotal = w.loadMs + w.validateMs + w.resolveMs;
  console.log(
    `| ${warm.graph.assets.length} (cache warm) | ${written.files} | ${w.loadMs.toFixed(0)} | ${w.validateMs.toFixed(0)} | ${w.resolveMs.toFixed(0)} | ${warmTotal.toFixed(0)} | ${Math.round(warm.graph.assets.length / (warmTotal / 1000))} | ${warm.diagnostics.filter((d) => d.severity === 'error').length} |`,
  );
  if (errors.length > 0) console.log('first error:', errors[0]);
}

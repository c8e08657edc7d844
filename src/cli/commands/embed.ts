import { z } from 'zod';
import { loadConfig } from '../../config/config.ts';
import type { Database } from '../../db/open.ts';
import { hasTable } from '../../db/session.ts';
import { sql } from '../../db/sql.ts';
import { ProviderSetupError, providerFor } from '../../embed/providers.ts';
import { jobsTable, type QueueStatus, queueStatus, retryFailedJobs } from '../../embed/queue.ts';
import { thousands } from '../../embed/summary.ts';
import { defaultKeepDoneMs, runWorker, type WorkerStats, WorkerStoppedError } from '../../embed/worker.ts';
import { styleFor } from '../../render/style.ts';
import { oneOf, parseCommandArgs } from '../args.ts';
import { databaseHelp, databaseOptions, openFromOptions, schemaOptionsFor } from '../database.ts';
import { parseDuration } from '../duration.ts';
import { type CliIO, exitCodes, UsageError } from '../io.ts';
import { catalogFor } from '../schemas.ts';
import type { Command } from './command.ts';

const positive = (command: string, option: string, value: string | undefined, fallback: number) => {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw new UsageError(`canon ${command}: --${option} takes a whole number of at least 1, not '${value}'.`);
  return Number(value);
};

export const embedCommand: Command = {
  usage: `Usage: canon embed [--database <db>] [--concurrency N] [--watch] [--status] [--retry-failed]

Works the embedding queue that apply fills: leases jobs (any number of workers, on any number of
machines, share one queue through PostgreSQL), calls the provider configured in canon.yaml outside
any transaction, and writes the vectors, discarding results whose chunk changed meanwhile. Failed
calls back off (honouring Retry-After); a job that fails --max-attempts times is marked failed with
its error. Without --watch it drains the queue and exits.

Options:
${databaseHelp}
  --status              print queued / leased / failed / done counts and the oldest job's age; embed nothing
  --retry-failed        give failed jobs a fresh set of attempts, then drain
  --concurrency <n>     batches in flight at once in this process (default: 2)
  --watch               keep serving: poll for new jobs (--poll, default 2s) until interrupted
  --batch-size <n>      most inputs per provider call (default: 64)
  --batch-tokens <n>    most tokens per provider call (default: 50000)
  --max-attempts <n>    attempts before a job fails (default: 5)
  --lease <d>           how long a job is held before another worker may take it (default: 5m)
  --timeout <d>         limit for one provider call (default: 60s)
  --poll <d>            queue poll interval with --watch (default: 2s)
  --keep-done <d>       remove done jobs finished longer ago than this when the queue is empty, hourly at
                        most (default: 7d); failed jobs stay until retried
  --format text|json    output (default: text); json for --status and the run's summary
  -h, --help            show this help

Exit status: 0 when every job taken was embedded, 1 on errors or when jobs failed (see --status).`,
  async run(args: string[], io: CliIO) {
    const { values } = parseCommandArgs('embed', args, {
      ...databaseOptions,
      status: { type: 'boolean', default: false },
      'retry-failed': { type: 'boolean', default: false },
      concurrency: { type: 'string' },
      watch: { type: 'boolean', default: false },
      'batch-size': { type: 'string' },
      'batch-tokens': { type: 'string' },
      'max-attempts': { type: 'string' },
      lease: { type: 'string' },
      timeout: { type: 'string' },
      poll: { type: 'string' },
      'keep-done': { type: 'string' },
      format: { type: 'string' },
    });
    const format = oneOf('embed', 'format', values.format, ['text', 'json'] as const, 'text');
    const options = {
      concurrency: positive('embed', 'concurrency', values.concurrency, 2),
      maxInputs: positive('embed', 'batch-size', values['batch-size'], 64),
      maxTokens: positive('embed', 'batch-tokens', values['batch-tokens'], 50_000),
      maxAttempts: positive('embed', 'max-attempts', values['max-attempts'], 5),
      leaseMs: parseDuration('embed', 'lease', values.lease, 300_000),
      timeoutMs: parseDuration('embed', 'timeout', values.timeout, 60_000),
      pollMs: parseDuration('embed', 'poll', values.poll, 2_000),
      keepDoneMs: parseDuration('embed', 'keep-done', values['keep-done'], defaultKeepDoneMs),
    };
    catalogFor(values.schemas);
    const schema = schemaOptionsFor(values, io);
    const settings = { ...loadConfig(values.dir!).config.embeddings, dimensions: schema.dimensions };
    const target = { model: settings.model, dimensions: settings.dimensions };
    const style = styleFor(io.stdout, io.env);
    const db = await openFromOptions(values, io, 'canon embed', schema);
    try {
      if (!(await hasTable(db.pool, db.schema, jobsTable))) {
        io.stderr.write(`canon embed: ${db.label} has no embedding queue yet; run 'canon apply' first\n`);
        return exitCodes.error;
      }
      if (values.status) {
        const status = await queueStatus(db.pool, target);
        io.stdout.write(
          format === 'json'
            ? JSON.stringify({ model: target.model, dimensions: target.dimensions, ...status }, null, 2) + '\n'
            : statusText(status, target.model),
        );
        return exitCodes.ok;
      }
      const off = await embeddingsOff(db, schema.embeddings);
      if (off) {
        const queued = (await queueStatus(db.pool, target)).queued;
        io.stderr.write(`canon embed: ${off}; ${queued} queued jobs stay queued until embeddings are on\n`);
        return exitCodes.error;
      }
      if (values['retry-failed']) {
        const n = await retryFailedJobs(db.pool, target);
        if (format === 'text') io.stdout.write(`${n} failed jobs queued again.\n`);
      }
      let provider;
      try {
        provider = await providerFor(settings, io.env, { timeoutMs: options.timeoutMs });
      } catch (e) {
        if (!(e instanceof ProviderSetupError)) throw e;
        io.stderr.write(`canon embed: ${e.message}\n`);
        return exitCodes.error;
      }
      const total = (await queueStatus(db.pool, target)).queued;
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const started = performance.now();
      const progress =
        io.stderr.isTTY && format === 'text'
          ? (s: WorkerStats) =>
              io.stderr.write(
                `\r${bar(s.embedded + s.failed, total)} ${s.embedded} embedded, ` +
                  `${s.failed} failed, ${s.retried} retried  `,
              )
          : undefined;
      let stats: WorkerStats;
      try {
        stats = await runWorker(db.pool, {
          provider,
          concurrency: options.concurrency,
          maxInputs: options.maxInputs,
          maxTokens: options.maxTokens,
          maxAttempts: options.maxAttempts,
          leaseMs: options.leaseMs,
          backoffMs: 1_000,
          maxBackoffMs: 300_000,
          watch: values.watch,
          pollMs: options.pollMs,
          keepDoneMs: options.keepDoneMs,
          signal: controller.signal,
          ...(progress ? { onProgress: progress } : {}),
        });
      } catch (e) {
        if (!(e instanceof WorkerStoppedError)) throw e;
        if (progress) io.stderr.write('\n');
        io.stderr.write(`canon embed: stopped: ${e.message}; the jobs it held are queued again\n`);
        return exitCodes.error;
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
      if (progress) io.stderr.write('\n');
      const seconds = (performance.now() - started) / 1000;
      const after = await queueStatus(db.pool, target);
      if (format === 'json') {
        io.stdout.write(
          JSON.stringify({ ...stats, seconds: Math.round(seconds * 10) / 10, queue: after }, null, 2) + '\n',
        );
      } else {
        io.stdout.write(
          `Embedded ${stats.embedded} chunks (${thousands(stats.tokens)} tokens) ` +
            `with ${provider.label} in ${seconds.toFixed(1)} s: ` +
            `${stats.providerCalls} provider calls, ${stats.retried} retried, ${stats.failed} failed` +
            `${stats.stale ? `, ${stats.stale} discarded (their chunk changed)` : ''}` +
            `${stats.pruned ? `; ${stats.pruned} done jobs older than --keep-done removed` : ''}.\n`,
        );
        if (after.failed > 0)
          io.stdout.write(
            style.yellow(
              `${after.failed} jobs have failed: see 'canon embed --status', then 'canon embed --retry-failed'.\n`,
            ),
          );
      }
      return stats.failed > 0 ? exitCodes.error : exitCodes.ok;
    } finally {
      await db.close();
    }
  },
};

function bar(done: number, total: number): string {
  const width = 24;
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

function statusText(s: QueueStatus, model: string): string {
  const lines = [
    `Embedding queue (${model}): ${s.queued} queued, ${s.leased} leased, ${s.failed} failed, ${s.done} done` +
      `${s.oldestPendingSeconds !== null ? `; oldest waiting job ${s.oldestPendingSeconds} s old` : ''}.`,
  ];
  if (s.otherTargets > 0)
    lines.push(
      `${s.otherTargets} jobs wait for another model or dimension (an earlier configuration); they are not worked.`,
    );
  for (const f of s.failures)
    lines.push(`  failed ${f.chunkTable}/${f.chunkId} after ${f.attempts} attempts: ${f.error ?? 'no error recorded'}`);
  return lines.join('\n') + '\n';
}

/** Why vectors cannot be written here, or undefined when they can. */
async function embeddingsOff(db: Database, enabled: boolean): Promise<string | undefined> {
  if (!enabled) return 'embeddings are off (--no-embeddings, or embeddings.enabled: false in canon.yaml)';
  const has = await db.pool.oneFirst(sql.type(z.object({ ok: z.boolean() }))`
    SELECT EXISTS (SELECT 1 FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_class c ON c.oid = a.attrelid
      WHERE t.typname = 'vector' AND a.attname = 'embedding' AND NOT a.attisdropped AND a.attnum > 0
        AND c.relnamespace = to_regnamespace(${db.schema})) AS ok`);
  return has
    ? undefined
    : `${db.label} has no vector column (no pgvector, or the schema was built with --no-embeddings)`;
}

/** Something that turns texts into vectors: a remote API or a model in this process. */
export interface EmbeddingProvider {
  /** For messages: `openai (https://api.openai.com/v1)`, `local (USE-lite)`. */
  label: string;
  model: string;
  dimensions: number;
  /**
   * One vector per input, in order; an entry is undefined when the provider answered without it
   * (a short batch), so the rest of the batch is still kept.
   */
  embed(inputs: string[], signal?: AbortSignal): Promise<(number[] | undefined)[]>;
}

/**
 * A provider's failure, classified by what the worker should do about it:
 * - `retry`: transient (5xx, 429, timeouts, malformed answers): back off and try again later;
 * - `input`: the provider refused these inputs (400, 413, 422): split the batch to find the bad one;
 * - `fatal`: no job can succeed until the configuration changes (key refused, unknown model, wrong
 *   dimension): stop the worker, give the jobs back untouched, say what to change.
 */
export class ProviderError extends Error {
  readonly handling: 'retry' | 'input' | 'fatal';
  /** From Retry-After, when the provider said how long to wait. */
  readonly retryAfterMs: number | undefined;

  constructor(handling: 'retry' | 'input' | 'fatal', message: string, retryAfterMs?: number) {
    super(message);
    this.handling = handling;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Retry-After: seconds, or an HTTP date (RFC 9110 §10.2.3). Undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.round(Number(value.trim()) * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

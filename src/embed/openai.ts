import { type EmbeddingProvider, ProviderError, parseRetryAfter } from './provider.ts';

export interface OpenAiOptions {
  baseUrl: string;
  model: string;
  dimensions: number;
  /** The key's value (read from the configured variable); never printed. */
  apiKey: string | undefined;
  /** The variable's name, for messages. */
  apiKeyEnv: string;
  /** Per request (default 60 s). */
  timeoutMs?: number;
}

/**
 * Any OpenAI-compatible POST {base_url}/embeddings: OpenAI, Azure OpenAI's compatible endpoint,
 * Ollama, vLLM, LM Studio. Checks every answer: count, index, numbers, dimension.
 */
export function openAiProvider(options: OpenAiOptions): EmbeddingProvider {
  const url = `${options.baseUrl.replace(/\/+$/, '')}/embeddings`;
  const where = endpointLabel(options.baseUrl);
  const hide = (text: string) => (options.apiKey ? text.split(options.apiKey).join('***') : text);
  return {
    label: `openai (${where})`,
    model: options.model,
    dimensions: options.dimensions,
    async embed(inputs, signal) {
      const timeoutMs = options.timeoutMs ?? 60_000;
      const timeout = AbortSignal.timeout(timeoutMs);
      let response: Response;
      let body: string;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}),
          },
          body: JSON.stringify({ model: options.model, input: inputs, encoding_format: 'float' }),
          signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        });
        body = await response.text();
      } catch (e) {
        if (timeout.aborted) throw new ProviderError('retry', `${where} did not answer within ${timeoutMs / 1000} s`);
        if (signal?.aborted) throw new ProviderError('retry', 'stopped before the provider answered');
        const cause = (e as { cause?: { code?: string; message?: string } }).cause;
        throw new ProviderError(
          'retry',
          `cannot reach ${where}: ${hide(cause?.code ?? cause?.message ?? (e as Error).message)}`,
        );
      }
      const status = response.status;
      if (status !== 200) {
        const detail = hide(errorText(body)).slice(0, 300);
        const said = `${where} answered ${status}${detail ? `: ${detail}` : ''}`;
        if (status === 429 || status === 503)
          throw new ProviderError('retry', said, parseRetryAfter(response.headers.get('retry-after')));
        if (status === 401 || status === 403) {
          const key = options.apiKey
            ? `the key in $${options.apiKeyEnv} was refused`
            : `no key was sent: set $${options.apiKeyEnv}`;
          throw new ProviderError('fatal', `${said} (${key}; embeddings.api_key_env names the variable)`);
        }
        if (status === 404)
          throw new ProviderError(
            'fatal',
            `${said} (check embeddings.base_url and embeddings.model '${options.model}')`,
          );
        if (status === 400 || status === 413 || status === 422) throw new ProviderError('input', said);
        throw new ProviderError('retry', said);
      }
      return vectorsOf(body, inputs.length, options.dimensions, options.model, where);
    },
  };
}

function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string };
    if (typeof parsed.error === 'string') return parsed.error;
    if (parsed.error && typeof parsed.error.message === 'string') return parsed.error.message;
  } catch {
    /* not JSON: the text itself */
  }
  return body.replace(/\s+/g, ' ').trim();
}

function vectorsOf(
  body: string,
  count: number,
  dimensions: number,
  model: string,
  where: string,
): (number[] | undefined)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new ProviderError('retry', `${where} answered with malformed JSON`);
  }
  const data = (parsed as { data?: unknown }).data;
  if (!Array.isArray(data)) throw new ProviderError('retry', `${where} answered without a data list`);
  const out: (number[] | undefined)[] = new Array(count).fill(undefined);
  for (const [position, item] of data.entries()) {
    const index = typeof item?.index === 'number' ? item.index : position;
    const vector = item?.embedding;
    if (!Number.isInteger(index) || index < 0 || index >= count)
      throw new ProviderError('retry', `${where} answered an embedding for input ${index} of ${count}`);
    if (!Array.isArray(vector) || !vector.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ProviderError('retry', `${where} answered an embedding that is not a list of numbers`);
    }
    if (vector.length !== dimensions) {
      throw new ProviderError(
        'fatal',
        `${where} returned ${vector.length}-dimensional vectors for model '${model}', ` +
          `but embeddings.dimensions is ${dimensions}: ` +
          `set embeddings.dimensions to ${vector.length} in canon.yaml (and run canon migrate), ` +
          `or choose a model that makes ${dimensions}-dimensional vectors`,
      );
    }
    out[index] = vector;
  }
  return out;
}

/** The endpoint for messages: origin and path only, never credentials or query parameters (keys hide there). */
function endpointLabel(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return `${url.origin}${url.pathname}`;
  } catch {
    return 'the configured embeddings endpoint';
  }
}

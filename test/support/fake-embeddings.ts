import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the next request gets instead of a good answer. */
export type Fault =
  | { status: number; retryAfter?: string; body?: string }
  | { hang: true }
  | { malformed: true }
  | { dimensions: number }
  | { short: true };

export interface FakeEmbeddings {
  /** The base URL, as embeddings.base_url takes it (…/v1). */
  url: string;
  /** Every request's inputs, in arrival order. */
  requests: string[][];
  /** Authorization headers seen. */
  authorizations: (string | undefined)[];
  /** Served in order, one per request, before good answers resume. */
  faults: Fault[];
  /** Inputs containing this text are refused with 400 (as a provider refuses an input it cannot take). */
  poison?: string;
  close(): Promise<void>;
}

/**
 * A real HTTP server speaking the OpenAI embeddings API, for tests and the benchmark. Vectors are
 * feature-hashed bags of words, normalized: deterministic, and texts sharing words are similar, so
 * search can be tested for real.
 */
export async function startFakeEmbeddings(options: {
  dimensions: number;
  latencyMs?: number;
}): Promise<FakeEmbeddings> {
  const fake: FakeEmbeddings = { url: '', requests: [], authorizations: [], faults: [], close: async () => {} };
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const answer = () => {
        if (req.method !== 'POST' || req.url !== '/v1/embeddings')
          return send(res, 404, { error: { message: 'not found' } });
        const { input, model } = JSON.parse(body) as { input: string[]; model: string };
        fake.authorizations.push(req.headers.authorization);
        fake.requests.push(input);
        const fault = fake.faults.shift();
        if (fault && 'hang' in fault) {
          hanging.add(res);
          return;
        }
        if (fault && 'malformed' in fault) {
          res.writeHead(200, { 'content-type': 'application/json' });
          return res.end('{"data": [ {"embedding": [0.1,');
        }
        if (fault && 'status' in fault) {
          res.writeHead(fault.status, {
            'content-type': 'application/json',
            ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
          });
          return res.end(fault.body ?? JSON.stringify({ error: { message: `injected ${fault.status}` } }));
        }
        if (fake.poison && input.some((t) => t.includes(fake.poison!)))
          return send(res, 400, { error: { message: 'This input is not accepted' } });
        const dims = fault && 'dimensions' in fault ? fault.dimensions : options.dimensions;
        const served = fault && 'short' in fault ? input.slice(0, Math.max(0, input.length - 1)) : input;
        send(res, 200, {
          object: 'list',
          model,
          data: served.map((t, index) => ({ object: 'embedding', index, embedding: bagOfWords(t, dims) })),
          usage: { prompt_tokens: 0, total_tokens: 0 },
        });
      };
      if (options.latencyMs) setTimeout(answer, options.latencyMs);
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = async () => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export function bagOfWords(text: string, dims: number): number[] {
  const v: number[] = new Array<number>(dims).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const h = createHash('sha256').update(word).digest();
    v[h.readUInt32BE(0) % dims]! += h[4]! & 1 ? 1 : -1;
  }
  if (!v.some((x) => x !== 0)) v[0] = 1;
  const norm = Math.hypot(...v);
  return v.map((x) => x / norm);
}

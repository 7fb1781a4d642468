// Load generation with autocannon: fixed-concurrency runs (connections × one request in flight),
// either for a duration or for a number of requests, each request made by a function of its index.

import autocannon from "autocannon";

export interface RequestSpec {
  method: "GET" | "POST" | "PUT";
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Seconds; or give `amount`. */
  duration?: number;
  amount?: number;
  /** The i-th request (i counts from 0 across all connections). */
  make: (i: number) => RequestSpec;
  timeoutSeconds?: number;
}

export interface LoadResult {
  requests: number;
  ok2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  seconds: number;
  /** Completed 2xx requests per second over the whole run. */
  rps: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  statusCodes: Record<string, number>;
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  let next = 0;
  const first = opts.make(0);
  const t0 = performance.now();
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections,
    pipelining: 1,
    timeout: opts.timeoutSeconds ?? 30,
    ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.duration ?? 10 }),
    requests: [
      {
        method: first.method,
        path: first.path,
        setupRequest: (req) => {
          const spec = opts.make(next++);
          const out: autocannon.Request = { ...req, method: spec.method, path: spec.path };
          if (spec.headers) out.headers = spec.headers;
          if (spec.body !== undefined) out.body = spec.body;
          return out;
        },
      },
    ],
  });
  const seconds = (performance.now() - t0) / 1000;
  const statusCodes: Record<string, number> = {};
  for (const [code, v] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = (v as { count: number }).count;
  return {
    requests: r.requests.total,
    ok2xx: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    seconds,
    rps: r["2xx"] / seconds,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: r.latency.mean },
    statusCodes,
  };
}

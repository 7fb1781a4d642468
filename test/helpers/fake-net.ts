// Intercepts outbound fetch() at the fetch boundary. Tests, the Worker and its Durable Objects
// share one isolate under the vitest plugin, so replacing globalThis.fetch here answers the
// Worker's calls to the provider and to WAV hosts. Every request is recorded for assertions.

import { afterEach } from "vitest";

export type Handler = (req: Request) => Response | Promise<Response>;

interface Route {
  method: string;
  url: string;
  handler: Handler;
}

const routes: Route[] = [];
export const requests: Request[] = [];
const realFetch = globalThis.fetch;

/** Answers `method url` (exact, query string ignored unless given) with `handler`. */
export function route(method: string, url: string, handler: Handler): void {
  routes.unshift({ method: method.toUpperCase(), url, handler });
}

/** The requests made to a URL (query string ignored unless given). */
export function requestsTo(url: string): Request[] {
  return requests.filter((r) => matches(url, r.url));
}

function matches(pattern: string, actual: string): boolean {
  return pattern.includes("?") ? actual === pattern : actual.split("?")[0] === pattern;
}

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const req = new Request(input, init);
  // Requests to the Worker itself and to workerd internals are not ours to fake.
  const r = routes.find((x) => (x.method === req.method || x.method === "*") && matches(x.url, req.url));
  if (!r) {
    requests.push(req.clone());
    throw new TypeError(`fake-net: no route for ${req.method} ${req.url}`);
  }
  requests.push(req.clone());
  return r.handler(req);
};

afterEach(() => {
  routes.length = 0;
  requests.length = 0;
});

export { realFetch };

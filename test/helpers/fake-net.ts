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

/**
 * The user's app (NOTIFY_URL in test/vitest.config.ts) accepts every announcement unless a test
 * answers for it with route(): tasks of every test are announced, and most tests do not care.
 */
export const NOTIFY_URL = "https://app.test/hooks/wav";
const standing: Route[] = [{ method: "POST", url: NOTIFY_URL, handler: () => new Response(null, { status: 204 }) }];

/** What a faked request carried (bodies read up front: a Request cannot cross objects). */
export interface SeenRequest {
  method: string;
  url: string;
  headers: Headers;
  body: string | null;
}
export const requests: SeenRequest[] = [];

/** Answers `method url` (exact, query string ignored unless given) with `handler`. */
export function route(method: string, url: string, handler: Handler): void {
  routes.unshift({ method: method.toUpperCase(), url, handler });
}

/** The requests made to a URL (query string ignored unless given). */
export function requestsTo(url: string): SeenRequest[] {
  return requests.filter((r) => matches(url, r.url));
}

function matches(pattern: string, actual: string): boolean {
  return pattern.includes("?") ? actual === pattern : actual.split("?")[0] === pattern;
}

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit) => {
  const original = new Request(input, init);
  const body = original.method === "GET" || original.method === "HEAD" ? null : await original.text();
  requests.push({ method: original.method, url: original.url, headers: new Headers(original.headers), body });
  const r = [...routes, ...standing].find((x) => (x.method === original.method || x.method === "*") && matches(x.url, original.url));
  if (!r) throw new TypeError(`fake-net: no route for ${original.method} ${original.url}`);
  return r.handler(new Request(original.url, { method: original.method, headers: original.headers, body }));
};

/** Answers `url` only once the returned function is called: a source that has not answered yet. */
export function heldRoute(url: string, answer: () => Response): () => void {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  route("GET", url, async () => {
    await gate;
    return answer();
  });
  return release;
}

afterEach(() => {
  routes.length = 0;
  requests.length = 0;
});


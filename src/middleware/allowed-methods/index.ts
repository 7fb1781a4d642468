// A known path asked with a method it does not serve answers 405 with Allow (README, "Routes"). The
// table of path → methods is derived from the app's own routes, so it cannot drift from them. It
// runs before authentication: the answer only restates the public routes table, so it tells a
// caller without a token nothing new.

import { createMiddleware } from "hono/factory";
import { apiError } from "../../http/errors";
import type { AppEnv } from "../../http/types";

interface CompiledRoute {
  pattern: RegExp;
  /** A path without parameters (/api/tasks/retry) wins over one with (/api/tasks/:taskId). */
  fixed: boolean;
  methods: ReadonlySet<string>;
}

/** "/api/tasks/:taskId/wav" → /^\/api\/tasks\/[^/]+\/wav$/ (a parameter is one non-empty segment). */
function compile(path: string): RegExp {
  const source = path
    .split("/")
    .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

/**
 * Path → methods served there, from Hono's `app.routes` (middleware, registered for ALL methods,
 * is not a route). HEAD is implied wherever GET is served (Hono answers HEAD with the GET route).
 */
export function routeMethods(routes: readonly { method: string; path: string }[]): Map<string, Set<string>> {
  const table = new Map<string, Set<string>>();
  for (const r of routes) {
    if (r.method === "ALL") continue;
    const methods = table.get(r.path) ?? new Set<string>();
    methods.add(r.method.toUpperCase());
    if (r.method.toUpperCase() === "GET") methods.add("HEAD");
    table.set(r.path, methods);
  }
  return table;
}

export const allowedMethods = (routes: () => readonly { method: string; path: string }[]) => {
  let compiled: CompiledRoute[] | null = null;
  return createMiddleware<AppEnv>(async (c, next) => {
    // Compiled at the first request: Hono takes no routes once it has answered one.
    compiled ??= [...routeMethods(routes())].map(([path, methods]) => ({ pattern: compile(path), fixed: !path.includes(":"), methods }));
    // The route named exactly by the path if there is one (/api/tasks/retry is never a task id),
    // else every route whose pattern matches.
    const all = compiled.filter((r) => r.pattern.test(c.req.path));
    const matching = all.some((r) => r.fixed) ? all.filter((r) => r.fixed) : all;
    // Unknown paths go on to the routers (and their 404).
    if (matching.length > 0 && !matching.some((r) => r.methods.has(c.req.method))) {
      const allow = [...new Set(matching.flatMap((r) => [...r.methods]))].join(", ");
      throw apiError(405, "method_not_allowed", `This path answers ${allow}, not ${c.req.method}.`, { allow });
    }
    await next();
  });
};

// A known path asked with a method it does not serve answers 405 with Allow (SPEC.md, "HTTP
// surface"), from one table of path → methods. It runs before authentication: the answer only
// restates the public routes table, so it tells a caller without a token nothing new.

import { createMiddleware } from "hono/factory";
import { apiError } from "../../http/errors";
import type { AppEnv } from "../../http/types";

interface CompiledRoute {
  pattern: RegExp;
  methods: ReadonlySet<string>;
  allow: string;
}

/** "/api/tasks/:taskId/wav" → /^\/api\/tasks\/[^/]+\/wav$/ (a parameter is one non-empty segment). */
function compile(path: string): RegExp {
  const source = path
    .split("/")
    .map((seg) => (seg.startsWith(":") ? "[^/]+" : seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

export const allowedMethods = (table: Readonly<Record<string, readonly string[]>>) => {
  const routes: CompiledRoute[] = Object.entries(table).map(([path, methods]) => {
    const set = new Set(methods.map((m) => m.toUpperCase()));
    if (set.has("GET")) set.add("HEAD");
    return { pattern: compile(path), methods: set, allow: [...set].join(", ") };
  });
  return createMiddleware<AppEnv>(async (c, next) => {
    const route = routes.find((r) => r.pattern.test(c.req.path));
    // Unknown paths go on to the routers (and their 404).
    if (route && !route.methods.has(c.req.method)) {
      throw apiError(405, "method_not_allowed", `This path answers ${route.allow}, not ${c.req.method}.`, { allow: route.allow });
    }
    await next();
  });
};

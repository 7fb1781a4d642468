// Every path this worker serves and the methods it serves there (SPEC.md, "HTTP surface"). The
// allowed-methods middleware answers 405 from this table, so a route added to the app is added
// here too. HEAD is implied wherever GET is listed (Hono answers HEAD with the GET route).

export const ROUTE_METHODS: Readonly<Record<string, readonly string[]>> = {
  "/healthz": ["GET"],
  "/callbacks/wav": ["POST"],
  "/api/tasks": ["GET", "POST"],
  // Before /api/tasks/:taskId (the first match decides): "retry" is this route, never a task id.
  "/api/tasks/retry": ["POST"],
  "/api/tasks/:taskId": ["GET", "PUT", "DELETE"],
  "/api/tasks/:taskId/wav": ["GET", "HEAD"],
  "/api/tasks/:taskId/link": ["GET"],
  "/api/tasks/:taskId/retry": ["POST"],
  "/api/tasks/:taskId/events": ["GET"],
  "/api/tasks/:taskId/notify": ["POST"],
  "/api/stats": ["GET"],
  // The dashboard (src/dashboard/routes.tsx)
  "/": ["GET"],
  "/assets/dashboard.css": ["GET"],
  "/assets/dashboard.js": ["GET"],
  "/favicon.svg": ["GET"],
  "/favicon.ico": ["GET"],
  "/sign-in": ["GET", "POST"],
  "/sign-out": ["POST"],
  "/tasks": ["GET"],
  "/tasks/:taskId": ["GET"],
  "/tasks/:taskId/wav": ["GET", "HEAD"],
  "/tasks/:taskId/retry": ["POST"],
  "/tasks/:taskId/notify": ["POST"],
  "/tasks/:taskId/delete": ["POST"],
  "/retry-failed": ["POST"],
  "/settings": ["GET"],
};

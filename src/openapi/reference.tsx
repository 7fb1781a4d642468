// The API reference page (README, "API description"): Scalar's viewer over /openapi.json, served
// entirely by the worker. Its script is Scalar's standalone bundle, served from the static assets
// (public/api-reference/scalar.js, copied from node_modules at install); the page starts it from
// an external init file, so no inline script runs. Public, like /openapi.json: it holds no secret
// and sends no request the reader does not make.
//
// Its Content-Security-Policy is the pages' (../http/page-headers.ts) with two additions, both for Scalar: style-src
// allows inline styles (Scalar's components inject <style> elements and set style attributes as
// they render; a nonce would cover only the first stylesheet, and a nonce makes browsers ignore
// 'unsafe-inline'), and img-src allows data: (its icons are data: URIs). Scripts stay 'self' only:
// no inline script runs, so what the inline-style allowance opens is styling, not code.
// Fonts: none are loaded (withDefaultFonts: false; the system fonts are used), so nothing goes to
// a font CDN and the page works offline.

import { Hono } from "hono";
import { raw } from "hono/html";
import { pageHeaders } from "../http/page-headers";
import type { AppEnv } from "../http/types";

export const REFERENCE_PATHS = ["/api-reference", "/api-reference/init.js", "/api-reference/scalar.js"] as const;

/** Scalar's configuration: offline, no telemetry, requests from "Test request" go straight to this worker. */
const INIT_JS = `// Starts the API reference (Scalar) over this worker's own /openapi.json.
Scalar.createApiReference("#app", {
  url: "/openapi.json",
  withDefaultFonts: false,
  telemetry: false,
  proxyUrl: "",
  showDeveloperTools: "never",
  hideClientButton: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  documentDownloadType: "json",
  defaultOpenAllTags: true,
  persistAuth: false,
  authentication: { preferredSecurityScheme: "bearerAuth" },
});
`;

// Scalar's two needs (see the top of this file): inline styles and data: images.
const headers = pageHeaders({ styleSrc: ["'self'", "'unsafe-inline'"], imgSrc: ["'self'", "data:"] });

export const reference = new Hono<AppEnv>();

reference
  .get("/api-reference", headers, (c) => {
    return c.html(
      <>
        {raw("<!DOCTYPE html>")}
        <html lang="en">
          <head>
            <meta charset="utf-8" />
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <meta name="referrer" content="same-origin" />
            <title>API reference · WAV callback edge</title>
            <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
          </head>
          <body>
            <noscript>The reference needs JavaScript; the document itself is at /openapi.json.</noscript>
            <div id="app"></div>
            <script src="/api-reference/scalar.js"></script>
            <script src="/api-reference/init.js"></script>
          </body>
        </html>
      </>,
      200,
      { "cache-control": "no-store" },
    );
  })
  .get("/api-reference/init.js", headers, (c) => c.body(INIT_JS, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=300" }))
  .get("/api-reference/scalar.js", headers, async (c) => {
    const asset = await c.env.ASSETS.fetch(new Request(new URL("/api-reference/scalar.js", c.req.url)));
    if (!asset.ok) {
      await asset.body?.cancel();
      return c.text("The API reference's script is missing: run npm install (it copies it into public/).", 404);
    }
    return new Response(asset.body, {
      status: 200,
      headers: { "content-type": "text/javascript; charset=utf-8", "cache-control": "public, max-age=3600", etag: asset.headers.get("etag") ?? "" },
    });
  });

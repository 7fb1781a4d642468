// The API described, against `wrangler dev` (README, "API description" and "Call it from your
// app"): /openapi.json validates as OpenAPI 3.1 with an OpenAPI validator package
// (@seriousme/openapi-schema-validator, the 3.1 JSON Schema of the OpenAPI Initiative); a typed
// client is generated from it with openapi-typescript, type-checked (a wrong call fails to compile)
// and run against the worker with openapi-fetch; the reference page and its script come from the
// worker itself. Also the guessing limit over a whole window, as a client sees it.

import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Validator } from "@seriousme/openapi-schema-validator";
import openapiTS, { astToString } from "openapi-typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { REPO_ROOT, startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

const KEYS = { apiToken: "e2e-openapi-token", hmacKey: "e2e-openapi-hmac", sunoKey: "e2e-openapi-suno" };
const CLIENT_DIR = join(REPO_ROOT, "test/typed-client");

let sim: Simulator;
let dev: DevWorker;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey });
  dev = await startDevWorker({ vars: workerVarsFor(sim, KEYS) });
});
afterAll(async () => {
  await dev?.stop();
  await sim?.stop();
});

/** tsc over the typed client (and whatever else is given), as an app's build would check it. */
function typecheck(files: string[]): { ok: boolean; output: string } {
  const tsc = join(REPO_ROOT, "node_modules/typescript/bin/tsc");
  const r = spawnSync(
    process.execPath,
    [tsc, "--ignoreConfig", "--noEmit", "--strict", "--target", "es2022", "--module", "esnext", "--moduleResolution", "bundler", "--lib", "es2022,dom", "--skipLibCheck", ...files],
    { cwd: CLIENT_DIR, encoding: "utf8" },
  );
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

describe("GET /openapi.json", () => {
  it("is public and validates as OpenAPI 3.1", async () => {
    const res = await fetch(`${dev.url}/openapi.json`);
    expect(res.status).toBe(200);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const doc = (await res.json()) as any;
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.servers).toEqual([{ url: dev.url }]);
    const validator = new Validator();
    const result = await validator.validate(doc);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    // The validator has teeth: a broken document is refused.
    const broken = structuredClone(doc);
    broken.paths["/api/stats"].get.responses = { 200: { content: {} } }; // a response without its description
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });
});

describe("a typed client generated from the document", () => {
  it("openapi-typescript makes its types from the running worker; the client type-checks, a wrong call does not, and it runs", async () => {
    const ast = await openapiTS(new URL(`${dev.url}/openapi.json`));
    const types = astToString(ast);
    expect(types).toContain('"/api/tasks/{taskId}"');
    writeFileSync(join(CLIENT_DIR, "api.d.ts"), types);

    const good = typecheck([join(CLIENT_DIR, "client.ts")]);
    expect(good.output).toBe("");
    expect(good.ok).toBe(true);

    writeFileSync(
      join(CLIENT_DIR, "wrong.ts"),
      `import { workerClient } from "./client";
const api = workerClient("http://x", "t");
export const a = api.GET("/api/tasks/{taskId}", { params: { path: {} } });
export const b = api.GET("/api/no-such-route");
export const c = api.PUT("/api/tasks/{taskId}", { params: { path: { taskId: "x" } }, body: { kind: "podcast" } });
`,
    );
    const wrong = typecheck([join(CLIENT_DIR, "wrong.ts")]);
    expect(wrong.ok).toBe(false);
    expect(wrong.output).toMatch(/wrong\.ts\(3,/);
    expect(wrong.output).toMatch(/wrong\.ts\(4,/);
    expect(wrong.output).toMatch(/wrong\.ts\(5,/);

    // Imported by URL: its types exist only once api.d.ts is generated, so the suite's own type check does not follow it.
    const { registerAndRead } = (await import(pathToFileURL(join(CLIENT_DIR, "client.ts")).href)) as {
      registerAndRead(baseUrl: string, token: string, taskId: string): Promise<unknown>;
    };
    const taskId = `typed-${Date.now()}`;
    const r = await registerAndRead(dev.url, KEYS.apiToken, taskId);
    expect(r).toEqual({ created: 201, kind: "music", state: "pending", listed: expect.arrayContaining([taskId]), missing: { status: 404, code: "not_found" } });
  });
});

describe("the API reference page", () => {
  it("is served by the worker: the page, its init file and Scalar's script, with no inline script and a CSP that allows scripts from the worker only", async () => {
    const page = await fetch(`${dev.url}/api-reference`);
    expect(page.status).toBe(200);
    const html = await page.text();
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toContain("connect-src 'self'");
    // Only what Scalar needs is added to the dashboard's policy: inline styles and data: images.
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(csp).toContain("img-src 'self' data:");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-eval");
    // Every script is an external file of the worker's own.
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.map((m) => /src="([^"]+)"/.exec(m[1]!)?.[1])).toEqual(["/api-reference/scalar.js", "/api-reference/init.js"]);
    expect(scripts.every((m) => m[2]!.trim() === "")).toBe(true);
    expect(html).not.toMatch(/https?:\/\//);

    const init = await fetch(`${dev.url}/api-reference/init.js`);
    expect(init.headers.get("content-type")).toContain("javascript");
    const initText = await init.text();
    expect(initText).toContain('url: "/openapi.json"');
    expect(initText).toContain("withDefaultFonts: false");

    const scalar = await fetch(`${dev.url}/api-reference/scalar.js`);
    expect(scalar.status).toBe(200);
    expect(scalar.headers.get("content-type")).toContain("javascript");
    const bundle = await scalar.text();
    expect(bundle.length).toBeGreaterThan(1_000_000);
    expect(bundle).toContain("createApiReference");
  });
});

describe("guessing the token over a whole window", () => {
  it("past 10 wrong tokens a minute an address gets 429 with Retry-After until the window passes, then 401 again; the right token from another address works meanwhile", async () => {
    const into = (Date.now() / 1000) % 60;
    if (into > 50) await new Promise((r) => setTimeout(r, (61 - into) * 1000));
    const guess = (token: string, address = "192.0.2.77") =>
      fetch(`${dev.url}/api/stats`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": address } });
    for (let i = 0; i < 10; i++) expect((await guess(`guess-${i}`)).status).toBe(401);
    const limited = await guess("guess-10");
    expect(limited.status).toBe(429);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate_limited");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect((await guess(KEYS.apiToken, "192.0.2.78")).status).toBe(200);
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 500));
    expect((await guess("guess-after-window")).status).toBe(401);
  }, 120_000);
});

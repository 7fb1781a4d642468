// The HTTP rules of README's "Routes" (the paragraph on errors): 405 with Allow on every known
// path, 401 with WWW-Authenticate for any Authorization that is not the token, 416 for a Range
// past the end, 404 for unknown paths.
import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { app } from "../../../src/app";
import { allowedMethods, routeMethods } from "../../../src/middleware/allowed-methods";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, API_TOKEN, call, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

/** Each known path (a concrete example of it) with the methods SPEC's routes table gives it. */
const ROUTES: [path: string, allow: string[]][] = [
  ["/", ["GET", "HEAD"]],
  ["/healthz", ["GET", "HEAD"]],
  ["/callbacks/wav", ["POST"]],
  ["/api/tasks", ["GET", "HEAD", "POST"]],
  ["/api/tasks/some-task", ["GET", "HEAD", "PUT", "DELETE"]],
  ["/api/tasks/some-task/wav", ["GET", "HEAD"]],
  ["/api/tasks/some-task/link", ["GET", "HEAD"]],
  ["/api/tasks/some-task/retry", ["POST"]],
  ["/api/tasks/some-task/events", ["GET", "HEAD"]],
  ["/api/tasks/some-task/notify", ["POST"]],
];
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const wrongMethods = ROUTES.flatMap(([path, allow]) =>
  METHODS.filter((m) => !allow.includes(m)).map((method) => ({ path, method, allow })),
);

async function storedTask(wav = makeWav({ seconds: 1 })) {
  const taskId = uniqueTaskId("rules");
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return { taskId, wav };
}

describe("405 method_not_allowed with Allow on every known path", () => {
  it.each(wrongMethods)("$method $path → 405, Allow: $allow", async ({ path, method, allow }) => {
    // With a valid token and without one alike: the answer says nothing the routes table does not.
    for (const send of [api, call]) {
      const res = await send(path, { method });
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")?.split(/,\s*/).sort()).toEqual([...allow].sort());
      if (method !== "HEAD") expect((await jsonOf(res)).error.code).toBe("method_not_allowed");
    }
  });

  it("DELETE /api/tasks/:taskId is routed (not 405, not 'No such route') for a known task", async () => {
    const taskId = uniqueTaskId("rules");
    const put = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(put.status).toBe(201);
    expect((await jsonOf(put)).taskId).toBe(taskId);
    const res = await api(`/api/tasks/${taskId}`, { method: "PATCH" });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toContain("DELETE");
  });

  it("the method table is the app's own routes: every route it serves is in it, with HEAD beside GET", () => {
    const served = app.routes.filter((r) => r.method !== "ALL");
    expect(served.length).toBeGreaterThan(0);
    const table = routeMethods(app.routes);
    for (const r of served) expect([...(table.get(r.path) ?? [])]).toContain(r.method);
    expect([...table.get("/api/tasks/:taskId/events")!].sort()).toEqual(["GET", "HEAD"]);
  });

  it("a route added to an app is allowed with no table to update, and its path answers 405 for the others", async () => {
    const probe = (withPost: boolean) => {
      const p = new Hono();
      p.use(allowedMethods(() => p.routes)).get("/a/:id", (c) => c.text("get"));
      if (withPost) p.post("/a/:id", (c) => c.text("post"));
      return p.onError((err) => (err as unknown as { getResponse(): Response }).getResponse());
    };
    const getOnly = probe(false);
    expect((await getOnly.request("/a/1")).status).toBe(200);
    const refused = await getOnly.request("/a/1", { method: "POST" });
    expect(refused.status).toBe(405);
    expect(refused.headers.get("allow")).toBe("GET, HEAD");
    expect((await probe(true).request("/a/1", { method: "POST" })).status).toBe(200);
  });

  it("an allowed method still reaches its route", async () => {
    const res = await call("/healthz");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    expect((await call("/healthz", { method: "HEAD" })).status).toBe(200);
  });

  it.each([
    ["GET", "/nowhere"],
    ["DELETE", "/nowhere"],
    ["GET", "/api/tasks/a/b/c"],
    ["POST", "/callbacks/other"],
    ["GET", "/api/tasks/some-task/wav/extra"],
  ])("an unknown path stays 404 not_found: %s %s", async (method, path) => {
    const res = await api(path, { method });
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.code).toBe("not_found");
  });
});

describe("401 with WWW-Authenticate: Bearer for any Authorization that is not the token", () => {
  it.each([
    ["missing", undefined],
    ["without the Bearer scheme", API_TOKEN],
    ["another scheme", `Basic ${btoa(`user:${API_TOKEN}`)}`],
    ["Bearer without a token", "Bearer "],
    ["a token with characters no token has", "Bearer not a token!"],
    ["the wrong token", "Bearer not-the-token"],
  ])("%s → 401", async (_name, authorization) => {
    for (const path of ["/api/tasks", "/api/tasks/some-task", "/api/tasks/some-task/wav"]) {
      const res = await call(path, { headers: authorization === undefined ? {} : { authorization } });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toMatch(/^Bearer\b/);
      expect(res.headers.get("content-type")).toContain("application/json");
      const body = await jsonOf(res);
      expect(body.error.code).toBe("unauthorized");
      expect(JSON.stringify(body)).not.toContain(API_TOKEN);
    }
  });

  it("the right token passes", async () => {
    expect((await call("/api/tasks", { headers: { authorization: `Bearer ${API_TOKEN}` } })).status).toBe(200);
  });
});

describe("416 for a Range that cannot be satisfied", () => {
  it.each(["bytes=99999999-", "bytes=99999999-100000000"])("%s → 416 with Content-Range: bytes */<size>", async (range) => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${wav.length}`);
    expect((await jsonOf(res)).error.code).toBe("range_not_satisfiable");
  });

  it("a range that starts exactly at the end is unsatisfiable too; the last byte is not", async () => {
    const { taskId, wav } = await storedTask();
    const atEnd = await api(`/api/tasks/${taskId}/wav`, { headers: { range: `bytes=${wav.length}-` } });
    expect(atEnd.status).toBe(416);
    expect(atEnd.headers.get("content-range")).toBe(`bytes */${wav.length}`);
    expect((await jsonOf(atEnd)).error.code).toBe("range_not_satisfiable"); // read, not cancelled: a cancelled body can log a kj trace
    const last = await api(`/api/tasks/${taskId}/wav`, { headers: { range: `bytes=${wav.length - 1}-` } });
    expect(last.status).toBe(206);
    expect(new Uint8Array(await last.arrayBuffer())).toEqual(wav.slice(-1));
  });

  it("a range whose end lies past the end is cut to the WAV: 206", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=100-99999999" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 100-${wav.length - 1}/${wav.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav.slice(100));
  });

  it("a malformed Range is still ignored: 200 with the whole WAV", async () => {
    const { taskId, wav } = await storedTask();
    for (const range of ["bytes=abc", "bytes=20-10", "items=0-1"]) {
      const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range } });
      expect(res.status).toBe(200);
      expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav);
    }
  });
});

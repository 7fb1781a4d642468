// The API described (README, "API description"): GET /openapi.json covers every route the app
// serves (walked from app.routes; only the dashboard's and the reference viewer's pages are left
// out), and real answers of the worker — task JSON, lists, errors, links, events, stats, callbacks —
// validate against the schemas the document gives for their route and status. The schemas are
// checked with @cfworker/json-schema (draft 2020-12, the dialect of OpenAPI 3.1), which runs in
// workerd; test/e2e/openapi.test.ts validates the whole document with an OpenAPI 3.1 validator.

import { Validator } from "@cfworker/json-schema";
import { beforeAll, describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { dashboard } from "../../src/dashboard/routes";
import { REFERENCE_PATHS } from "../../src/openapi/reference";
import { route } from "../helpers/fake-net";
import { makeWav, wavResponse } from "../helpers/wav";
import { api, call, jsonOf, randomAddress, sendCallback, successBody, uniqueTaskId, waitForState } from "../helpers/worker";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any;
let doc: Doc;

beforeAll(async () => {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  doc = await res.json();
});

/** Hono's "/api/tasks/:taskId" as OpenAPI spells it. */
const openApiPath = (p: string) => p.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

/** Checks `body` against the schema the document gives for this route's answer; returns the problems. */
function problems(path: string, method: string, status: number, body: unknown): string[] {
  const op = doc.paths[path]?.[method];
  if (!op) return [`${method.toUpperCase()} ${path} is not in the document`];
  const response = op.responses[String(status)];
  if (!response) return [`${method.toUpperCase()} ${path} does not document ${status}`];
  const schema = response.content?.["application/json"]?.schema;
  if (!schema) return [`${method.toUpperCase()} ${path} ${status} has no JSON schema`];
  const result = new Validator({ ...schema, components: doc.components }, "2020-12", false).validate(body);
  return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation}: ${e.error}`);
}

async function expectDocumented(res: Response, path: string, method: string): Promise<unknown> {
  const body = await res.json();
  expect(problems(path, method, res.status, body), JSON.stringify(body).slice(0, 400)).toEqual([]);
  return body;
}

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 with the bearer scheme, the error shape and the announcements as webhooks, without a secret", async () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info.title).toBe("wav-callback-edge");
    expect(doc.servers[0].url).toBe("https://edge.test");
    expect(doc.components.securitySchemes.bearerAuth).toEqual(expect.objectContaining({ type: "http", scheme: "bearer" }));
    expect(doc.components.schemas.Error.properties.error.required).toEqual(["code", "message"]);
    expect(doc.webhooks.announcement.post.requestBody.content["application/json"].schema).toBeDefined();
    const text = JSON.stringify(doc);
    for (const secret of ["test-api-token", "test-hmac-key", "test-suno-key", "whsec_"]) expect(text).not.toContain(secret);
  });

  it("covers every route the app serves, but the pages", () => {
    const pages = new Set([...dashboard.routes.map((r) => `${r.method} ${r.path}`), ...REFERENCE_PATHS.map((p) => `GET ${p}`)]);
    const missing: string[] = [];
    let checked = 0;
    for (const r of app.routes) {
      if (r.method === "ALL" || pages.has(`${r.method} ${r.path}`)) continue;
      checked++;
      if (!doc.paths[openApiPath(r.path)]?.[r.method.toLowerCase()]) missing.push(`${r.method} ${r.path}`);
    }
    expect(missing).toEqual([]);
    // The routes the README names are among them (a walk over nothing would pass too).
    for (const [method, path] of [
      ["post", "/callbacks/wav"],
      ["post", "/callbacks/lyrics"],
      ["get", "/api/tasks"],
      ["post", "/api/tasks"],
      ["put", "/api/tasks/{taskId}"],
      ["get", "/api/tasks/{taskId}"],
      ["delete", "/api/tasks/{taskId}"],
      ["get", "/api/tasks/{taskId}/files/{name}"],
      ["head", "/api/tasks/{taskId}/files/{name}"],
      ["get", "/api/tasks/{taskId}/files/{name}/link"],
      ["get", "/api/tasks/{taskId}/files/{name}/peaks"],
      ["get", "/api/tasks/{taskId}/wav"],
      ["get", "/api/tasks/{taskId}/link"],
      ["get", "/api/tasks/{taskId}/events"],
      ["post", "/api/tasks/{taskId}/retry"],
      ["post", "/api/tasks/retry"],
      ["post", "/api/tasks/{taskId}/notify"],
      ["get", "/api/stats"],
      ["get", "/healthz"],
      ["get", "/openapi.json"],
    ]) {
      expect(doc.paths[path!]?.[method!], `${method} ${path}`).toBeDefined();
    }
    expect(checked).toBeGreaterThan(25);
    // Each operation has an id of its own (generated clients name their calls by it).
    const ids = Object.values<Doc>(doc.paths).flatMap((item) => Object.values<Doc>(item).map((op) => op.operationId));
    expect(ids.every((id) => typeof id === "string")).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // No dashboard page leaks in.
    expect(Object.keys(doc.paths).filter((p) => !/^\/(api|callbacks)\/|^\/healthz$|^\/openapi\.json$/.test(p))).toEqual([]);
  });

  it("every bearer route documents 401 and 429 (with Retry-After), and its validation 400", () => {
    for (const [path, item] of Object.entries<Doc>(doc.paths)) {
      if (!path.startsWith("/api/")) continue;
      for (const [method, op] of Object.entries<Doc>(item)) {
        expect(op.security, `${method} ${path}`).toEqual(expect.arrayContaining([{ bearerAuth: [] }]));
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(expect.arrayContaining(["401", "429", "503"]));
        expect(op.responses["429"].headers["Retry-After"]).toBeDefined();
        if (path.includes("{taskId}") || path === "/api/tasks" || path === "/api/tasks/retry") expect(Object.keys(op.responses), `${method} ${path}`).toContain("400");
      }
    }
  });

  it("describes each callback body from its kind's own schema, and the query parameters from the validators", () => {
    const wav = doc.paths["/callbacks/wav"].post.requestBody.content["application/json"].schema;
    const text = JSON.stringify(wav.$ref ? doc.components.schemas[wav.$ref.split("/").pop()] : wav);
    expect(text).toContain("audioWavUrl");
    const midi = JSON.stringify(doc.paths["/callbacks/midi"].post.requestBody.content["application/json"]);
    expect(midi).not.toEqual(JSON.stringify(doc.paths["/callbacks/wav"].post.requestBody.content["application/json"]));
    const list = doc.paths["/api/tasks"].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(list).toEqual(expect.arrayContaining(["query:state", "query:kind", "query:audioId", "query:limit", "query:cursor"]));
    const link = doc.paths["/api/tasks/{taskId}/files/{name}/link"].get.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    expect(link).toEqual(expect.arrayContaining(["path:taskId", "path:name", "query:ttl"]));
  });
});

describe("real answers match the document", () => {
  it("a task's life: PUT, GET, list, events, link, file link, peaks, retry, notify, stats, DELETE", async () => {
    const taskId = uniqueTaskId("contract");
    const put = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(put.status).toBe(201);
    await expectDocumented(put, "/api/tasks/{taskId}", "put");
    const again = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(again.status).toBe(200);
    await expectDocumented(again, "/api/tasks/{taskId}", "put");

    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1 })));
    const cb = await sendCallback(successBody(taskId, url));
    expect(cb.status).toBe(200);
    await expectDocumented(cb, "/callbacks/wav", "post");
    await waitForState(taskId, ["stored"]);

    const task = await expectDocumented(await api(`/api/tasks/${taskId}`), "/api/tasks/{taskId}", "get");
    // The check has teeth: a field the document does not name, or one missing, is found.
    expect(problems("/api/tasks/{taskId}", "get", 200, { ...(task as object), undocumented: 1 })).not.toEqual([]);
    expect(problems("/api/tasks/{taskId}", "get", 200, { ...(task as object), files: [{ name: "x" }] })).not.toEqual([]);
    expect(problems("/api/tasks/{taskId}", "get", 200, {})).not.toEqual([]);
    await expectDocumented(await api(`/api/tasks?limit=5`), "/api/tasks", "get");
    await expectDocumented(await api(`/api/tasks/${taskId}/events`), "/api/tasks/{taskId}/events", "get");
    await expectDocumented(await api(`/api/tasks/${taskId}/link?ttl=60`), "/api/tasks/{taskId}/link", "get");
    await expectDocumented(await api(`/api/tasks/${taskId}/files/${taskId}.wav/link`), "/api/tasks/{taskId}/files/{name}/link", "get");
    const peaks = await api(`/api/tasks/${taskId}/files/${taskId}.wav/peaks`);
    expect(peaks.status).toBe(200);
    await expectDocumented(peaks, "/api/tasks/{taskId}/files/{name}/peaks", "get");
    const stored = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    expect(stored.status).toBe(409);
    await expectDocumented(stored, "/api/tasks/{taskId}/retry", "post");
    const notify = await api(`/api/tasks/${taskId}/notify`, { method: "POST" });
    expect(notify.status).toBe(202);
    await expectDocumented(notify, "/api/tasks/{taskId}/notify", "post");
    await expectDocumented(await api("/api/stats"), "/api/stats", "get");
    await expectDocumented(await api("/api/tasks/retry?state=failed", { method: "POST" }), "/api/tasks/retry", "post");
    await expectDocumented(await call("/healthz"), "/healthz", "get");

    const del = await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    expect(del.status).toBe(204);
    expect(Object.keys(doc.paths["/api/tasks/{taskId}"].delete.responses)).toContain("204");
    const gone = await api(`/api/tasks/${taskId}`);
    expect(gone.status).toBe(404);
    await expectDocumented(gone, "/api/tasks/{taskId}", "get");
  });

  it("a failed task retried, a music task's files, and errors: 400, 401, 404, 409, 413, 415, 429", async () => {
    const failed = uniqueTaskId("contract-f");
    await sendCallback({ code: 451, msg: "no", data: { task_id: failed } });
    await waitForState(failed, ["failed"]);
    const retried = await api(`/api/tasks/${failed}/retry`, { method: "POST" });
    expect(retried.status).toBe(202);
    await expectDocumented(retried, "/api/tasks/{taskId}/retry", "post");

    const music = uniqueTaskId("contract-m");
    const reg = await api(`/api/tasks/${music}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "music" }) });
    await expectDocumented(reg, "/api/tasks/{taskId}", "put");
    const mismatch = await api(`/api/tasks/${music}`, { method: "PUT", body: JSON.stringify({ kind: "video" }) });
    expect(mismatch.status).toBe(409);
    await expectDocumented(mismatch, "/api/tasks/{taskId}", "put");

    const cases: [Response, string, string, number][] = [
      [await api("/api/tasks?limit=0"), "/api/tasks", "get", 400],
      [await api("/api/tasks/bad%20id"), "/api/tasks/{taskId}", "get", 400],
      [await api(`/api/tasks/${uniqueTaskId("nope")}`), "/api/tasks/{taskId}", "get", 404],
      [await api(`/api/tasks/${failed}/link?ttl=999999999`), "/api/tasks/{taskId}/link", "get", 400],
      [await api(`/api/tasks/${failed}/files/nothing.wav/link`), "/api/tasks/{taskId}/files/{name}/link", "get", 404],
      [await api(`/api/tasks/${failed}/wav`), "/api/tasks/{taskId}/wav", "get", 404],
      [await api("/api/tasks/retry"), "/api/tasks/retry", "post", 405],
      [await call("/api/tasks", { headers: { authorization: "Bearer wrong" } }), "/api/tasks", "get", 401],
      [await api("/api/tasks", { method: "POST", body: "{}" }), "/api/tasks", "post", 415],
      [await api("/api/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: "{" }), "/api/tasks", "post", 400],
      [await api("/api/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ taskId: "x".repeat(20_000) }) }), "/api/tasks", "post", 413],
      [await sendCallback({ code: 200, msg: "ok", data: {} }), "/callbacks/wav", "post", 400],
    ];
    for (const [res, path, method, status] of cases) {
      expect(res.status, `${method} ${path}`).toBe(status);
      if (status === 405) {
        // 405 belongs to no operation: the error shape is the document's Error schema.
        const result = new Validator({ $ref: "#/components/schemas/Error", components: doc.components }, "2020-12", false).validate(await res.json());
        expect(result.valid).toBe(true);
        continue;
      }
      await expectDocumented(res, path, method);
    }

    // 429 from an address that guessed too often.
    const address = randomAddress();
    let last: Response | null = null;
    for (let i = 0; i < 11; i++) {
      last = await call("/api/stats", { headers: { authorization: `Bearer guess-${i}`, "cf-connecting-ip": address } });
      if (i < 10) await last.body?.cancel();
    }
    if (last!.status === 401) return; // the minute rolled over between the tries: covered by guess-limit.test.ts
    expect(last!.status).toBe(429);
    await expectDocumented(last!, "/api/stats", "get");
  });

  it("the announcement schema in webhooks matches what announcements send", async () => {
    const { announcementBody } = await import("../../src/notify/message");
    const taskId = uniqueTaskId("contract-a");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1 })));
    await sendCallback(successBody(taskId, url));
    const task = await waitForState(taskId, ["stored"]);
    const body = JSON.parse(
      announcementBody({
        type: "wav.stored",
        reachedAt: Date.now(),
        task,
        download: { url: "https://edge.test/x", expiresAt: Date.now() },
        files: [{ name: `${taskId}.wav`, url: "https://edge.test/y", expiresAt: new Date().toISOString() }],
      }),
    );
    const schema = doc.webhooks.announcement.post.requestBody.content["application/json"].schema;
    const result = new Validator({ ...schema, components: doc.components }, "2020-12", false).validate(body);
    expect(result.errors.map((e) => `${e.instanceLocation}: ${e.error}`)).toEqual([]);
    const bad = new Validator({ ...schema, components: doc.components }, "2020-12", false).validate({ ...body, data: { ...body.data, state: "lost" } });
    expect(bad.valid).toBe(false);
  });
});

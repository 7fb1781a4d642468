// The simulator's "your app" receiver, which the demo relies on to say an announcement arrived
// and verified. Announcements here are signed with node:crypto straight from the Standard
// Webhooks rule, independently of both the worker's signer and the package that verifies.

import { createHmac, randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startYourApp, type Received, type YourApp } from "../simulator/your-app.ts";

const KEY = randomBytes(32);
const SECRET = `whsec_${KEY.toString("base64")}`;

function signed(id: string, body: string, opts: { key?: Buffer; ts?: number } = {}): Record<string, string> {
  const ts = opts.ts ?? Math.floor(Date.now() / 1000);
  const sig = createHmac("sha256", opts.key ?? KEY).update(`${id}.${ts}.${body}`).digest("base64");
  return { "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1,${sig}` };
}

function post(url: string, id: string, body: string, opts: { key?: Buffer; ts?: number } = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: signed(id, body, opts), body });
}

const body = (taskId: string, type = "wav.stored") => JSON.stringify({ type, timestamp: new Date().toISOString(), data: { taskId, state: type === "wav.stored" ? "stored" : "failed" } });

let app: YourApp;
const script = new Map<string, number[]>();

beforeAll(async () => {
  // Answers for a task's announcements, in order, then 204.
  app = await startYourApp({ secret: SECRET, port: 0, respond: (r: Received) => script.get(r.payload!.data.taskId)?.shift() });
});
afterAll(() => app?.stop());

describe("your app (the announcement receiver)", () => {
  it("verifies a signed announcement with standardwebhooks, records it and answers 204", async () => {
    const res = await post(app.url, "msg_1", body("t1"));
    expect(res.status).toBe(204);
    const [r] = app.announcementsFor("t1");
    expect(r).toMatchObject({ id: "msg_1", verified: true, error: null, copy: 1, status: 204, contentType: "application/json" });
    expect(r!.payload).toMatchObject({ type: "wav.stored", data: { taskId: "t1", state: "stored" } });
  });

  it("answers 401 to a wrong key, a changed body or a stale timestamp, and records them as not verified", async () => {
    const other = randomBytes(32);
    expect((await post(app.url, "msg_2", body("t2"), { key: other })).status).toBe(401);
    expect((await post(app.url, "msg_3", body("t2"), { ts: Math.floor(Date.now() / 1000) - 3600 })).status).toBe(401);
    const original = body("t2");
    const headers = signed("msg_4", original);
    expect((await fetch(app.url, { method: "POST", headers, body: original })).status).toBe(204);
    // The same headers over another body: the signature covers the body.
    expect((await fetch(app.url, { method: "POST", headers, body: body("t2", "wav.failed") })).status).toBe(401);
    expect(app.announcementsFor("t2").map((r) => r.id)).toEqual(["msg_4"]);
    const refused = app.received.filter((r) => !r.verified).map((r) => r.error);
    expect(refused).toEqual([expect.stringMatching(/signature/i), expect.stringMatching(/too old/i), expect.stringMatching(/signature/i)]);
  });

  it("counts copies of one webhook-id and plays scripted answers (500, 410) before 204", async () => {
    script.set("t3", [500, 410]);
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await post(app.url, "msg_5", body("t3"))).status);
    expect(statuses).toEqual([500, 410, 204]);
    expect(app.announcementsFor("t3").map((r) => [r.copy, r.status])).toEqual([[1, 500], [2, 410], [3, 204]]);
  });

  it("waitFor resolves when a matching announcement arrives", async () => {
    const waiting = app.waitFor((r) => r.payload?.data.taskId === "t4", 5000);
    await post(app.url, "msg_6", body("t4", "wav.failed"));
    expect((await waiting).payload?.type).toBe("wav.failed");
    await expect(app.waitFor((r) => r.payload?.data.taskId === "never", 100)).rejects.toThrow(/no matching announcement/);
  });

  it("other paths and methods are not announcements", async () => {
    expect((await fetch(app.url.replace("/hooks/wav", "/elsewhere"), { method: "POST", body: "{}" })).status).toBe(404);
    const get = await fetch(app.url);
    expect(get.status).toBe(405);
    expect(get.headers.get("allow")).toBe("POST");
  });
});

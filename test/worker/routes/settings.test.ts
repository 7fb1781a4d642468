// Behaviour that depends on settings. The Worker's fetch handler is called with the test env plus
// the setting under test; bindings (Durable Objects, R2) stay the real ones.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../../src/index";
import { requestsTo, route } from "../../helpers/fake-net";
import { API_TOKEN, getTask, jsonOf, ORIGIN, signature, uniqueTaskId } from "../../helpers/worker";

async function fetchWith(settings: Record<string, string>, path: string, init: RequestInit = {}): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(`${ORIGIN}${path}`, init), { ...env, ...settings } as Env, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

const failure = (taskId: string) => JSON.stringify({ code: 451, msg: "source download failed", data: { task_id: taskId } });
const post = (body: string, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body,
});

describe("callback verification settings", () => {
  it("with neither WEBHOOK_HMAC_KEY nor CALLBACK_TOKEN, callbacks are refused with 503 naming them", async () => {
    const taskId = uniqueTaskId("cfg");
    const res = await fetchWith({ WEBHOOK_HMAC_KEY: "", CALLBACK_TOKEN: "" }, "/callbacks/wav", post(failure(taskId)));
    expect(res.status).toBe(503);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("verification_not_configured");
    expect(body.error.message).toContain("WEBHOOK_HMAC_KEY");
    expect(body.error.message).toContain("CALLBACK_TOKEN");
    expect(await getTask(taskId)).toBeNull();
  });

  it("ALLOW_UNVERIFIED_CALLBACKS=true accepts unsigned callbacks (local development)", async () => {
    const taskId = uniqueTaskId("cfg");
    const res = await fetchWith({ WEBHOOK_HMAC_KEY: "", CALLBACK_TOKEN: "", ALLOW_UNVERIFIED_CALLBACKS: "true" }, "/callbacks/wav", post(failure(taskId)));
    expect(res.status).toBe(200);
    expect((await getTask(taskId))?.state).toBe("failed");
  });

  it("CALLBACK_TOKEN alone: ?token= must match", async () => {
    const settings = { WEBHOOK_HMAC_KEY: "", CALLBACK_TOKEN: "s3cret-token" };
    const taskId = uniqueTaskId("cfg");
    for (const query of ["", "?token=", "?token=wrong", "?token=s3cret-tokenX", "?TOKEN=s3cret-token"]) {
      const res = await fetchWith(settings, `/callbacks/wav${query}`, post(failure(taskId)));
      expect(res.status).toBe(401);
      const text = await res.text();
      expect(JSON.parse(text).error.code).toBe("invalid_token");
      expect(text).not.toContain("s3cret-token");
    }
    expect(await getTask(taskId)).toBeNull();
    const res = await fetchWith(settings, "/callbacks/wav?token=s3cret-token", post(failure(taskId)));
    expect(res.status).toBe(200);
    expect((await getTask(taskId))?.state).toBe("failed");
  });

  it("both set: the token and the signature are both required", async () => {
    const settings = { CALLBACK_TOKEN: "s3cret-token" };
    const taskId = uniqueTaskId("cfg");
    const ts = Math.floor(Date.now() / 1000);
    const signed = { "x-webhook-timestamp": String(ts), "x-webhook-signature": await signature(taskId, ts) };
    expect((await fetchWith(settings, "/callbacks/wav", post(failure(taskId), signed))).status).toBe(401);
    expect((await fetchWith(settings, "/callbacks/wav?token=s3cret-token", post(failure(taskId)))).status).toBe(401);
    expect(await getTask(taskId)).toBeNull();
    expect((await fetchWith(settings, "/callbacks/wav?token=s3cret-token", post(failure(taskId), signed))).status).toBe(200);
  });
});

describe("API settings", () => {
  it("without API_TOKEN the API is closed (503), not open", async () => {
    const res = await fetchWith({ API_TOKEN: "" }, "/api/tasks/abc", { headers: { authorization: "Bearer anything" } });
    expect(res.status).toBe(503);
    expect((await jsonOf(res)).error.code).toBe("api_token_not_configured");
  });

  it("POST /api/tasks puts ?token=<CALLBACK_TOKEN> into the callBackUrl it submits", async () => {
    const wavTaskId = uniqueTaskId("wav");
    route("POST", "https://provider.test/api/v1/wav/generate", () => Response.json({ code: 200, msg: "success", data: { taskId: wavTaskId } }));
    const res = await fetchWith({ CALLBACK_TOKEN: "tok en/+", PUBLIC_URL: "https://wav.example.org/" }, "/api/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ taskId: "m", audioId: "a" }),
    });
    expect(res.status).toBe(202);
    const sent = JSON.parse(requestsTo("https://provider.test/api/v1/wav/generate")[0]!.body!);
    expect(sent.callBackUrl).toBe("https://wav.example.org/callbacks/wav?token=tok+en%2F%2B");
    expect(new URL(sent.callBackUrl).searchParams.get("token")).toBe("tok en/+");
  });

  it("a bad setting is a clear 500 naming it", async () => {
    const res = await fetchWith({ OVERDUE_AFTER_SECONDS: "soon" }, "/api/tasks/abc", { headers: { authorization: `Bearer ${API_TOKEN}` } });
    expect(res.status).toBe(500);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("OVERDUE_AFTER_SECONDS");
  });
});

// Behaviour that depends on settings. The Worker's fetch handler is called with the test env plus
// the setting under test; bindings (Durable Objects, R2) stay the real ones.
import { describe, expect, it } from "vitest";
import { requestsTo, route } from "../../helpers/fake-net";
import { API_TOKEN, callWith as fetchWith, getTask, jsonOf, signature, uniqueTaskId } from "../../helpers/worker";

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

describe("settings validation (SPEC Configuration)", () => {
  const authed = { headers: { authorization: `Bearer ${API_TOKEN}` } };
  const b64 = (n: number) => btoa(String.fromCharCode(...new Uint8Array(n).map((_, i) => (i * 37 + 11) % 256)));

  /** Both kinds of route answer 500 misconfigured, naming every given word; returns the message. */
  async function misconfigured(settings: Record<string, string>, ...names: string[]): Promise<string> {
    const taskId = uniqueTaskId("cfg");
    const answers = [
      await fetchWith(settings, `/api/tasks/${taskId}`, authed),
      await fetchWith(settings, "/callbacks/wav?token=x", post(failure(taskId))),
    ];
    let message = "";
    for (const res of answers) {
      expect(res.status).toBe(500);
      const body = await jsonOf(res);
      expect(body.error.code).toBe("misconfigured");
      for (const name of names) expect(body.error.message).toContain(name);
      message = body.error.message;
    }
    expect(await getTask(taskId)).toBeNull();
    return message;
  }

  /** The setting is accepted: the API answers as usual (404 for an unknown task). */
  async function accepted(settings: Record<string, string>): Promise<void> {
    const res = await fetchWith(settings, `/api/tasks/${uniqueTaskId("cfg")}`, authed);
    expect(res.status, JSON.stringify(await res.clone().json())).toBe(404);
  }

  it("WAV_SOURCE_HOSTS: an entry that is not host[:port] or *.host[:port] is named", async () => {
    for (const bad of [
      "https://cdn.example.com",
      "cdn.example.com/wavs",
      "cdn .example.com",
      "cdn.example.com:0",
      "cdn.example.com:65536",
      "cdn.example.com:",
      "user@cdn.example.com",
      "*cdn.example.com",
      "cdn.*.example.com",
    ]) {
      const message = await misconfigured({ WAV_SOURCE_HOSTS: `ok.example.com, ${bad}` }, "WAV_SOURCE_HOSTS", bad);
      expect(message).not.toContain("ok.example.com");
    }
  });

  it("WAV_SOURCE_HOSTS: hosts, ports, wildcards and IP literals pass (and entries are lower-cased)", async () => {
    await accepted({ WAV_SOURCE_HOSTS: "CDN.Example.com, *.cdn.example.org:8443, 127.0.0.1:8788, [::1]:8080, localhost, files.example.net.:65535" });
    await accepted({ WAV_SOURCE_HOSTS: " , " });
  });

  it("TASK_MAX_AGE_SECONDS below OVERDUE_AFTER_SECONDS names both", async () => {
    await misconfigured({ TASK_MAX_AGE_SECONDS: "299", OVERDUE_AFTER_SECONDS: "300" }, "TASK_MAX_AGE_SECONDS", "OVERDUE_AFTER_SECONDS");
    await accepted({ TASK_MAX_AGE_SECONDS: "300", OVERDUE_AFTER_SECONDS: "300" });
  });

  it("PROVIDER_RETENTION_SECONDS must be a positive integer; empty is the default", async () => {
    for (const bad of ["0", "-5", "1.5", "two weeks"]) await misconfigured({ PROVIDER_RETENTION_SECONDS: bad }, "PROVIDER_RETENTION_SECONDS");
    await accepted({ PROVIDER_RETENTION_SECONDS: "86400" });
    await accepted({ PROVIDER_RETENTION_SECONDS: "" });
  });

  it("MAX_WAV_BYTES is bounded by what one multipart upload can hold", async () => {
    await misconfigured({ MAX_WAV_BYTES: String(5 * 1024 ** 4) }, "MAX_WAV_BYTES", "at most");
    // Above one R2 put's 5 GiB is fine: such lengths are uploaded in parts.
    await accepted({ MAX_WAV_BYTES: String(6 * 1024 ** 3) });
  });

  it("NOTIFY_URL must be an http(s) URL and needs a NOTIFY_SECRET", async () => {
    const secret = `whsec_${b64(32)}`;
    await misconfigured({ NOTIFY_URL: "ftp://app.example.com/hooks", NOTIFY_SECRET: secret }, "NOTIFY_URL");
    await misconfigured({ NOTIFY_URL: "not a url", NOTIFY_SECRET: secret }, "NOTIFY_URL");
    await misconfigured({ NOTIFY_URL: "https://app.example.com/hooks", NOTIFY_SECRET: "" }, "NOTIFY_SECRET", "NOTIFY_URL");
    await accepted({ NOTIFY_URL: "https://app.example.com/hooks", NOTIFY_SECRET: secret });
    await accepted({ NOTIFY_URL: "", NOTIFY_SECRET: "" });
  });

  it("NOTIFY_SECRET must be whsec_ + base64 of 24-64 bytes, and its value is never quoted", async () => {
    const notify = { NOTIFY_URL: "https://app.example.com/hooks" };
    for (const bad of [b64(32), `whsec_${b64(32)}!!`, `whsec_not base64 at all`, `whsec_${b64(16)}`, `whsec_${b64(65)}`, "whsec_"]) {
      const message = await misconfigured({ ...notify, NOTIFY_SECRET: bad }, "NOTIFY_SECRET");
      const value = bad.replace(/^whsec_/, "");
      if (value !== "") expect(message).not.toContain(value.slice(0, 8));
    }
    // Set but unusable is misconfigured even while NOTIFY_URL is unset.
    await misconfigured({ NOTIFY_SECRET: "hunter2-hunter2" }, "NOTIFY_SECRET");
    await accepted({ ...notify, NOTIFY_SECRET: `whsec_${b64(24)}` });
    await accepted({ ...notify, NOTIFY_SECRET: `whsec_${b64(64)}` });
  });
});

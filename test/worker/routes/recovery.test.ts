// Never lose a WAV (SPEC "Task states", "Replayed signatures", POST /retry): retries that outlast
// an outage, manual retries, and replayed signatures that must not steer the download.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runDue } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, jsonOf, sendCallback, signature, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";
import { runTick } from "../../../src/cron/tick";

const RECORD_INFO = "https://provider.test/api/v1/wav/record-info";

afterEach(() => {
  vi.useRealTimers();
});

function record(taskId: string, data: Record<string, unknown>): Response {
  return Response.json({ code: 200, msg: "success", data: { taskId, response: null, errorCode: null, errorMessage: null, ...data } });
}

async function settled(taskId: string, code: string) {
  await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 10_000 }).toBe(code);
  return (await getTask(taskId))!;
}

/** Moves the clock to the task's next attempt and runs what is due. */
async function nextAttempt(taskId: string) {
  const due = Date.parse((await getTask(taskId))!.nextAttemptAt!);
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(Math.max(Date.now(), due) + 1);
  await runDue(taskId);
  vi.useRealTimers();
}

describe("retries outlast an outage", () => {
  it("a source down for hours is still retried after 5 failed attempts (every 2 h), then stored", async () => {
    const taskId = uniqueTaskId("outage");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 3 });
    let up = false;
    route("GET", url, () => (up ? wavResponse(wav) : new Response("down", { status: 503 })));
    route("GET", RECORD_INFO, () => record(taskId, { successFlag: "SUCCESS", response: { audioWavUrl: url } }));
    await sendCallback(successBody(taskId, url));
    await settled(taskId, "source_http_error");
    for (let i = 0; i < 5; i++) await nextAttempt(taskId);
    const waiting = (await getTask(taskId))!;
    expect(waiting).toMatchObject({ state: "downloading", attempts: 6, error: { code: "source_http_error" } });
    // The sixth failure waits 2 h, not forever and not "failed".
    expect(Date.parse(waiting.nextAttemptAt!) - Date.parse(waiting.updatedAt)).toBe(2 * 3600_000);
    up = true;
    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
  });
});

describe("POST /api/tasks/:taskId/retry", () => {
  it("reopens a failed task with a current URL from record-info, and it ends stored", async () => {
    const taskId = uniqueTaskId("retry");
    const bad = `https://cdn.example.com/${taskId}.html`;
    const good = `https://cdn.example.com/${taskId}.wav?sig=fresh`;
    const wav = makeWav({ seconds: 1, seed: 8 });
    route("GET", bad, () => new Response("<html>oops</html>", { headers: { "content-type": "text/html" } }));
    route("GET", good, () => wavResponse(wav));
    route("GET", RECORD_INFO, () => record(taskId, { successFlag: "SUCCESS", response: { audioWavUrl: good } }));
    await sendCallback(successBody(taskId, bad));
    expect((await waitForState(taskId, ["failed"])).error?.code).toBe("not_a_wav");

    const res = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    expect((await jsonOf(res)).state).toBe("downloading");
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    expect(requestsTo(`${RECORD_INFO}?taskId=${taskId}`)).toHaveLength(1);

    const again = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    expect(again.status).toBe(409);
    expect((await jsonOf(again)).error.code).toBe("already_stored");
    const unknown = await api(`/api/tasks/${uniqueTaskId()}/retry`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error.code).toBe("not_found");
  });

  it("a pending task is polled now, but never twice within 30 s", async () => {
    const taskId = uniqueTaskId("retry");
    route("GET", RECORD_INFO, () => record(taskId, { successFlag: "PENDING" }));
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    expect(requestsTo(`${RECORD_INFO}?taskId=${taskId}`)).toHaveLength(1);
    expect((await api(`/api/tasks/${taskId}/retry`, { method: "POST" })).status).toBe(202);
    expect(requestsTo(`${RECORD_INFO}?taskId=${taskId}`)).toHaveLength(1);
    const task = (await getTask(taskId))!;
    expect(task.state).toBe("pending");
    expect(Date.parse(task.nextAttemptAt!)).toBeGreaterThan(Date.now() + 20_000);
  });
});

describe("replayed signatures", () => {
  it("the same signature headers with another WAV URL are 409 signature_reused and fetch nothing", async () => {
    const taskId = uniqueTaskId("replay");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const evil = `https://cdn.example.com/${taskId}-other.wav`;
    const wav = makeWav({ seconds: 1, seed: 2 });
    let n = 0;
    route("GET", url, () => (++n === 1 ? new Response("busy", { status: 503 }) : wavResponse(wav)));
    route("GET", evil, () => wavResponse(makeWav({ seconds: 1, seed: 9 })));
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback(successBody(taskId, url), { timestamp: ts })).status).toBe(200);
    await settled(taskId, "source_http_error"); // the first attempt was cut short: waiting to retry

    const replay = await sendCallback(successBody(taskId, evil), { timestamp: ts });
    expect(replay.status).toBe(409);
    expect((await jsonOf(replay)).error.code).toBe("signature_reused");
    // The identical callback again is an ordinary duplicate.
    expect((await sendCallback(successBody(taskId, url), { timestamp: ts })).status).toBe(200);
    // An older signed timestamp with another URL changes nothing either.
    expect((await sendCallback(successBody(taskId, evil), { timestamp: ts - 5 })).status).toBe(200);

    await nextAttempt(taskId);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
    expect(requestsTo(evil)).toHaveLength(0);
    const history = (await jsonOf(await api(`/api/tasks/${taskId}/events`))).events as { type: string; outcome?: string }[];
    expect(history.filter((e) => e.type === "callback").map((e) => e.outcome)).toEqual(["applied", "signature_reused", "duplicate", "ignored"]);
  });

  it("a newer signed URL replaces the known one while the task waits to retry", async () => {
    const taskId = uniqueTaskId("replay");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const fresh = `https://cdn2.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 1, seed: 6 });
    route("GET", url, () => new Response("busy", { status: 503 }));
    route("GET", fresh, () => wavResponse(wav));
    const ts = Math.floor(Date.now() / 1000);
    await sendCallback(successBody(taskId, url), { timestamp: ts - 10 });
    await settled(taskId, "source_http_error");
    expect((await sendCallback(successBody(taskId, fresh), { timestamp: ts })).status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", source: { url: fresh } });
    expect(await env.BUCKET.head(`wav/${taskId}.wav`)).not.toBeNull();
  });

  it("the same signature spelled without its base64 padding is the same signature: 409", async () => {
    const taskId = uniqueTaskId("replay");
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: taskId } }, { timestamp: ts })).status).toBe(200);
    const evil = successBody(taskId, "https://evil.example.com/x.wav");
    const sig = await signature(taskId, ts);
    expect(sig.endsWith("=")).toBe(true);
    const res = await sendCallback(evil, { timestamp: ts, headers: { "x-webhook-signature": sig.replace(/=+$/, "") } });
    expect(res.status).toBe(409);
    expect((await getTask(taskId))?.state).toBe("failed");
    expect(requestsTo("https://evil.example.com/x.wav")).toHaveLength(0);
  });
});

describe("retry: edge cases", () => {
  it("an expired task retried by hand is polled again, not expired again at once", async () => {
    const t0 = Date.now();
    const taskId = uniqueTaskId("retry");
    route("GET", RECORD_INFO, () => record(taskId, { successFlag: "PENDING" }));
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0 + 2 * 86_400_000);
    await runTick(env, Date.now());
    expect((await getTask(taskId))?.error?.code).toBe("expired");
    vi.setSystemTime(t0 + 2 * 86_400_000 + 60_000);
    const res = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    expect(await jsonOf(res)).toMatchObject({ state: "pending", error: null });
  });

  it("a record-info answer cut off mid-body is provider trouble, not a 500", async () => {
    const taskId = uniqueTaskId("retry");
    route("GET", RECORD_INFO, () => {
      const body = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(new TextEncoder().encode('{"code":'));
          c.error(new Error("connection reset"));
        },
      });
      return new Response(body, { headers: { "content-type": "application/json" } });
    });
    await api(`/api/tasks/${taskId}`, { method: "PUT" });
    const res = await api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    expect(res.status).toBe(202);
    expect((await jsonOf(res)).state).toBe("pending");
  });
});

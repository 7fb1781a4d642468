import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { runDue, shardOf } from "../../helpers/durable";
import { describe, expect, it } from "vitest";
import { heldRoute, requestsTo, route } from "../../helpers/fake-net";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, call, getTask, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState, jsonOf } from "../../helpers/worker";

function serveWav(url: string, bytes: Uint8Array) {
  route("GET", url, () => wavResponse(bytes));
}

describe("POST /callbacks/wav: success", () => {
  for (const spelling of ["audioWavUrl", "audio_wav_url"] as const) {
    it(`stores the WAV byte for byte (${spelling})`, async () => {
      const taskId = uniqueTaskId();
      const url = `https://cdn.example.com/${taskId}.wav`;
      const wav = makeWav({ seconds: 1, seed: 3 });
      serveWav(url, wav);

      const res = await sendCallback(successBody(taskId, url, spelling));
      expect(res.status).toBe(200);
      expect(await jsonOf(res)).toEqual({ code: 200, msg: "success" });

      const task = await waitForState(taskId, ["stored", "failed"]);
      expect(task.state).toBe("stored");
      expect(task.source).toEqual({ url });
      expect(task.wav).toEqual({
        key: `wav/${taskId}.wav`,
        size: wav.byteLength,
        sha256: await sha256Hex(wav),
        contentType: "audio/wav",
        // The WAV's facts, read from its header as it streamed: 1 s of 8 kHz mono 16-bit.
        format: { sampleRate: 8000, channels: 1, bitsPerSample: 16, durationSeconds: 1 },
      });
      expect(task.attempts).toBe(1);
      expect(task.error).toBeNull();

      const object = await env.BUCKET.get(`wav/${taskId}.wav`);
      expect(object).not.toBeNull();
      expect(new Uint8Array(await object!.arrayBuffer())).toEqual(wav);
      expect(object!.httpMetadata?.contentType).toBe("audio/wav");
      expect(object!.customMetadata).toEqual({ taskId, sourceUrl: url });
      // A declared length goes through one fixed-length put, not a multipart upload.
      expect(object!.etag).not.toContain("-");
    });
  }

  it("answers before the WAV transfer finishes", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    const release = heldRoute(url, () => wavResponse(makeWav()));
    const res = await sendCallback(successBody(taskId, url));
    expect(res.status).toBe(200);
    // The acknowledgement came back while the source had not answered yet.
    expect((await getTask(taskId))?.state).toBe("downloading");
    release();
    expect((await waitForState(taskId, ["stored", "failed"])).state).toBe("stored");
  });

  it("a verified callback for an unknown task creates it; one for a stored task changes nothing", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    expect(await getTask(taskId)).toBeNull();
    serveWav(url, makeWav());
    await sendCallback(successBody(taskId, url));
    // Once stored and announced, nothing may change any more.
    const stored = await waitForAnnounced(taskId, ["stored"]);

    // Newly signed (later timestamps): the same signature with another body would be a replay (409).
    const now = Math.floor(Date.now() / 1000);
    const again = await sendCallback(successBody(taskId, "https://cdn.example.com/other.wav"), { timestamp: now + 1 });
    expect(again.status).toBe(200);
    const fail = await sendCallback({ code: 500, msg: "late failure", data: { task_id: taskId } }, { timestamp: now + 2 });
    expect(fail.status).toBe(200);
    // Whatever the late callbacks set off (nothing, if they were ignored) is run now, not waited for.
    await runDue(taskId);
    expect(await getTask(taskId)).toEqual(stored);
    expect(requestsTo("https://cdn.example.com/other.wav")).toHaveLength(0);
  });

  it("20 concurrent duplicate callbacks lead to one fetch and one object", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    const wav = makeWav({ seconds: 2 });
    serveWav(url, wav);
    const answers = await Promise.all(Array.from({ length: 20 }, () => sendCallback(successBody(taskId, url))));
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    // Any transfer still scheduled by a duplicate is run now, before counting the fetches.
    await runDue(taskId);
    expect(requestsTo(url)).toHaveLength(1);
    const listed = await env.BUCKET.list({ prefix: `wav/${taskId}` });
    // One WAV (and its waveform beside it).
    expect(listed.objects.map((o) => o.key)).toEqual([`wav/${taskId}.wav`, `wav/${taskId}.wav.peaks.json`]);
  });
});

describe("POST /callbacks/wav: recovery", () => {
  it("a task is listed as downloading while its first attempt runs", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    const release = heldRoute(url, () => wavResponse(makeWav()));
    await sendCallback(successBody(taskId, url));
    await expect
      .poll(async () => ((await jsonOf(await api("/api/tasks?state=downloading&limit=100"))).tasks as { taskId: string }[]).map((t) => t.taskId), { timeout: 5_000 })
      .toContain(taskId);
    release();
    await waitForState(taskId, ["stored"]);
  });

  it("a redelivered callback re-arms a shard whose alarm was lost", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => new Response("busy", { status: 503 }));
    await sendCallback(successBody(taskId, url));
    await expect.poll(async () => (await getTask(taskId))?.error?.code, { timeout: 5_000 }).toBe("source_http_error");
    const stub = shardOf(taskId);
    await runInDurableObject(stub, (_instance, state) => state.storage.deleteAlarm());
    expect(await runInDurableObject(stub, (_instance, state) => state.storage.getAlarm())).toBeNull(); // nothing would ever wake it
    route("GET", url, () => wavResponse(makeWav()));
    await sendCallback(successBody(taskId, url)); // the provider's retry: same URL, changes nothing
    // Armed again (for its retry time) — polled, since the alarm may be running right now.
    await expect.poll(() => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm()), { timeout: 5_000 }).toBeGreaterThan(Date.now());
  });
});

describe("POST /callbacks/wav: provider failures", () => {
  for (const [code, msg] of [
    [400, "unsupported source audio"],
    [451, "source download failed"],
    [500, "conversion failed"],
    [501, "conversion failed (501)"],
  ] as const) {
    it(`code ${code} ends failed with the provider's code and msg`, async () => {
      const taskId = uniqueTaskId();
      const res = await sendCallback({ code, msg, data: { task_id: taskId, audioWavUrl: null } });
      expect(res.status).toBe(200);
      const task = await getTask(taskId);
      expect(task?.state).toBe("failed");
      expect(task?.error).toEqual({ code: String(code), message: msg });
      expect(task?.wav).toBeNull();
      expect(await env.BUCKET.head(`wav/${taskId}.wav`)).toBeNull();
    });
  }
});

describe("POST /callbacks/wav: long fields", () => {
  it("a msg over 2,000 characters is cut to 2,000, not refused", async () => {
    const taskId = uniqueTaskId();
    const msg = `conversion failed: ${"x".repeat(5000 - 19)}`;
    expect(msg).toHaveLength(5000);
    const res = await sendCallback({ code: 500, msg, data: { task_id: taskId } });
    expect(res.status).toBe(200);
    const task = await getTask(taskId);
    expect(task?.state).toBe("failed");
    expect(task?.error).toEqual({ code: "500", message: msg.slice(0, 2000) });
  });

  it("a WAV URL of 7,000 characters is accepted and fetched", async () => {
    const taskId = uniqueTaskId();
    const url = `https://cdn.example.com/${taskId}/${"a".repeat(7000 - 30 - taskId.length)}.wav?sig=1`;
    expect(url.length).toBeGreaterThan(6900);
    const wav = makeWav({ seconds: 0.25 });
    route("GET", url, () => wavResponse(wav));
    const res = await sendCallback(successBody(taskId, url));
    expect(res.status).toBe(200);
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task.state).toBe("stored");
    expect(task.wav?.sha256).toBe(await sha256Hex(wav));
  });

  it("a schema error names the field once", async () => {
    const cases: [unknown, string][] = [
      [{ code: 200, data: { task_id: "bad id!", audioWavUrl: "https://cdn.example.com/x.wav" } }, "data.task_id: must be 1-128 letters, digits, '_' or '-'"],
      [{ code: 200, data: { audioWavUrl: "https://cdn.example.com/x.wav" } }, "data.task_id: is missing"],
      [{ code: "200", data: { task_id: "abc" } }, "code: must be a number"],
      [{ code: 200, data: { task_id: "abc", audioWavUrl: "ftp://x/y.wav" } }, "data.audioWavUrl: must be an http(s) URL"],
    ];
    for (const [body, message] of cases) {
      const res = await sendCallback(body, { taskId: "abc" });
      expect(res.status).toBe(400);
      expect(await jsonOf(res)).toEqual({ error: { code: "invalid_callback", message } });
    }
  });
});

describe("POST /callbacks/wav: refused", () => {
  async function expectNothingCreated(taskId: string) {
    expect(await getTask(taskId)).toBeNull();
  }

  it("a bad signature is 401 and creates nothing", async () => {
    const taskId = uniqueTaskId();
    const res = await sendCallback(successBody(taskId, "https://cdn.example.com/x.wav"), { key: "wrong-key" });
    expect(res.status).toBe(401);
    expect(await jsonOf(res)).toEqual({ error: { code: "invalid_signature", message: expect.any(String) } });
    await expectNothingCreated(taskId);
  });

  it("a signature for another task id is 401", async () => {
    const taskId = uniqueTaskId();
    const res = await sendCallback(successBody(taskId, "https://cdn.example.com/x.wav"), { taskId: "someone-else" });
    expect(res.status).toBe(401);
    await expectNothingCreated(taskId);
  });

  it("a stale timestamp is 401 and creates nothing", async () => {
    const taskId = uniqueTaskId();
    const old = Math.floor(Date.now() / 1000) - 301;
    const res = await sendCallback(successBody(taskId, "https://cdn.example.com/x.wav"), { timestamp: old });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("stale_timestamp");
    await expectNothingCreated(taskId);
  });

  it("missing signature headers are 401", async () => {
    const taskId = uniqueTaskId();
    const res = await call("/callbacks/wav", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(successBody(taskId, "https://cdn.example.com/x.wav")),
    });
    expect(res.status).toBe(401);
    expect((await jsonOf(res)).error.code).toBe("missing_signature");
    await expectNothingCreated(taskId);
  });

  it("malformed JSON is 400", async () => {
    const res = await sendCallback('{"code": 200, "data": {', { taskId: "x" });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error.code).toBe("malformed_json");
  });

  it("a body without data.task_id is 400", async () => {
    const res = await sendCallback({ code: 200, msg: "success", data: { audioWavUrl: "https://cdn.example.com/x.wav" } });
    expect(res.status).toBe(400);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("invalid_callback");
    expect(body.error.message).toContain("task_id");
  });

  it("a body that is not JSON by its content type is 415", async () => {
    const taskId = uniqueTaskId();
    const res = await sendCallback(JSON.stringify(successBody(taskId, "https://cdn.example.com/x.wav")), {
      headers: { "content-type": "text/plain" },
    });
    expect(res.status).toBe(415);
    expect((await jsonOf(res)).error.code).toBe("unsupported_media_type");
    await expectNothingCreated(taskId);
  });

  it("a body over 64 KiB is 413", async () => {
    const taskId = uniqueTaskId();
    const body = { ...successBody(taskId, "https://cdn.example.com/x.wav"), padding: "x".repeat(64 * 1024) };
    const res = await sendCallback(body);
    expect(res.status).toBe(413);
    expect((await jsonOf(res)).error.code).toBe("payload_too_large");
    await expectNothingCreated(taskId);
  });

  it("a chunked body over 64 KiB is 413 too (counted while reading)", async () => {
    const taskId = uniqueTaskId();
    const text = JSON.stringify({ ...successBody(taskId, "https://cdn.example.com/x.wav"), padding: "x".repeat(70 * 1024) });
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.slice(i, i + 8192));
        controller.close();
      },
    });
    const res = await sendCallback(stream, { taskId });
    expect(res.status).toBe(413);
    await expectNothingCreated(taskId);
  });
});

describe("/api/* needs the bearer token", () => {
  for (const [method, path] of [
    ["GET", "/api/tasks/abc"],
    ["GET", "/api/tasks/abc/wav"],
    ["HEAD", "/api/tasks/abc/wav"],
    ["GET", "/api/tasks"],
    ["PUT", "/api/tasks/abc"],
    ["POST", "/api/tasks"],
    ["GET", "/api/tasks/abc/link"],
  ] as const) {
    it(`${method} ${path} without a token is 401`, async () => {
      const res = await call(path, { method });
      expect(res.status).toBe(401);
      if (method !== "HEAD") expect((await jsonOf(res)).error.code).toBe("unauthorized");
    });
  }

  it("a wrong token is 401", async () => {
    const res = await call("/api/tasks/abc", { headers: { authorization: "Bearer nope" } });
    expect(res.status).toBe(401);
  });

  it("the right token opens it", async () => {
    const res = await api("/api/tasks/never-registered");
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.code).toBe("not_found");
  });
});

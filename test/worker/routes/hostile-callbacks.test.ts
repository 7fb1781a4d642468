// A table of malformed and hostile callbacks, each with the answer it must get. None of them may
// create a task, and no answer may echo a secret.
import { describe, expect, it } from "vitest";
import { API_TOKEN, call, getTask, HMAC_KEY, jsonOf, signature, uniqueTaskId } from "../../helpers/worker";

interface Case {
  name: string;
  method?: string;
  contentType?: string | null;
  body?: string | Uint8Array | ReadableStream<Uint8Array> | null;
  /** Signs for this task id (default: the body's data.task_id when it is a string). */
  signFor?: string;
  timestamp?: string;
  signatureHeader?: string;
  noSignature?: boolean;
  query?: string;
  /** A task id that must not exist afterwards. */
  taskId?: string;
  status: number;
  code?: string;
}

const now = () => Math.floor(Date.now() / 1000);
const url = "https://cdn.example.com/x.wav";
const json = (v: unknown) => JSON.stringify(v);
const ok = (taskId: string, extra: Record<string, unknown> = {}) => json({ code: 200, msg: "success", data: { task_id: taskId, audioWavUrl: url, ...extra } });

function cases(): Case[] {
  const id = () => uniqueTaskId("h");
  const a = id();
  const deep = "[".repeat(20_000) + "]".repeat(20_000);
  return [
    { name: "GET is not how callbacks arrive", method: "GET", body: null, status: 405, code: "method_not_allowed" },
    { name: "PUT is refused", method: "PUT", body: ok(a), taskId: a, status: 405, code: "method_not_allowed" },
    { name: "DELETE is refused", method: "DELETE", body: null, status: 405, code: "method_not_allowed" },
    { name: "no Content-Type", contentType: null, body: ok(id()), status: 415, code: "unsupported_media_type" },
    { name: "text/plain", contentType: "text/plain", body: ok(id()), status: 415, code: "unsupported_media_type" },
    { name: "form-encoded", contentType: "application/x-www-form-urlencoded", body: "code=200&task_id=x", status: 415, code: "unsupported_media_type" },
    { name: "multipart", contentType: "multipart/form-data; boundary=x", body: "--x--", status: 415, code: "unsupported_media_type" },
    { name: "json lookalike type", contentType: "application/jsonp", body: ok(id()), status: 415, code: "unsupported_media_type" },
    { name: "over 64 KiB", body: ok(a, { pad: "x".repeat(65 * 1024) }), taskId: a, status: 413, code: "payload_too_large" },
    { name: "empty body", body: "", signFor: "x", status: 400, code: "malformed_json" },
    { name: "truncated JSON", body: '{"code":200,"data":{"task_id":"x"', signFor: "x", status: 400, code: "malformed_json" },
    { name: "JSON with a trailing comma", body: '{"code":200,"data":{"task_id":"x",}}', signFor: "x", status: 400, code: "malformed_json" },
    { name: "UTF-16 encoded", body: new Uint8Array([0xff, 0xfe, ...[...ok("u16")].flatMap((c) => [c.charCodeAt(0), 0])]), signFor: "u16", status: 400, code: "malformed_json" },
    { name: "nesting 20,000 deep", body: deep, signFor: "x", status: 400 },
    { name: "null", body: "null", signFor: "x", status: 400, code: "invalid_callback" },
    { name: "an array", body: "[]", signFor: "x", status: 400, code: "invalid_callback" },
    { name: "a string", body: '"hello"', signFor: "x", status: 400, code: "invalid_callback" },
    { name: "an empty object", body: "{}", signFor: "x", status: 400, code: "invalid_callback" },
    { name: "data is a string", body: json({ code: 200, data: "x" }), signFor: "x", status: 400, code: "invalid_callback" },
    { name: "task_id is a number", body: json({ code: 200, data: { task_id: 42, audioWavUrl: url } }), signFor: "42", status: 400, code: "invalid_callback" },
    { name: "task_id is empty", body: ok(""), signFor: "", status: 400, code: "invalid_callback" },
    { name: "task_id has unicode", body: ok("täsk-✓"), status: 400, code: "invalid_callback" },
    { name: "task_id walks up paths", body: ok("../../etc/passwd"), status: 400, code: "invalid_callback" },
    { name: "task_id has a slash", body: ok("wav/x"), status: 400, code: "invalid_callback" },
    { name: "task_id has a NUL", body: ok("a\u0000b"), status: 400, code: "invalid_callback" },
    { name: "task_id has a newline", body: ok("a\nb"), status: 400, code: "invalid_callback" },
    { name: "task_id of 129 characters", body: ok("x".repeat(129)), status: 400, code: "invalid_callback" },
    { name: "code as a string", body: json({ code: "200", data: { task_id: "x", audioWavUrl: url } }), signFor: "x", status: 400, code: "invalid_callback" },
    { name: "code 1e400 (Infinity)", body: '{"code":1e400,"data":{"task_id":"x","audioWavUrl":"https://a.b/c.wav"}}', signFor: "x", status: 400, code: "invalid_callback" },
    { name: "success without a URL", body: json({ code: 200, msg: "success", data: { task_id: a } }), taskId: a, status: 400, code: "invalid_callback" },
    { name: "javascript: URL", body: json({ code: 200, data: { task_id: a, audioWavUrl: "javascript:alert(1)" } }), taskId: a, status: 400, code: "invalid_callback" },
    { name: "ftp URL", body: json({ code: 200, data: { task_id: a, audio_wav_url: "ftp://x/y.wav" } }), taskId: a, status: 400, code: "invalid_callback" },
    { name: "a URL over 8 KiB", body: ok(a, { audioWavUrl: `https://cdn.example.com/${"a".repeat(8200)}.wav` }), taskId: a, status: 400, code: "invalid_callback" },
    { name: "URL of the wrong type", body: json({ code: 200, data: { task_id: a, audioWavUrl: { href: url } } }), taskId: a, status: 400, code: "invalid_callback" },
    { name: "no signature headers", body: ok(a), noSignature: true, taskId: a, status: 401, code: "missing_signature" },
    { name: "signature that is not base64", body: ok(a), signatureHeader: "!!not base64!!", taskId: a, status: 401, code: "invalid_signature" },
    { name: "signature for another task", body: ok(a), signFor: "another-task", taskId: a, status: 401, code: "invalid_signature" },
    { name: "signature over the body instead", body: ok(a), signFor: ok(a), taskId: a, status: 401, code: "invalid_signature" },
    { name: "timestamp not a number", body: ok(a), timestamp: "yesterday", taskId: a, status: 401, code: "invalid_timestamp" },
    { name: "timestamp negative", body: ok(a), timestamp: "-5", taskId: a, status: 401, code: "invalid_timestamp" },
    { name: "timestamp in milliseconds", body: ok(a), timestamp: String(Date.now()), taskId: a, status: 401, code: "invalid_timestamp" },
    { name: "timestamp 10 minutes ahead", body: ok(a), timestamp: String(now() + 600), taskId: a, status: 401, code: "stale_timestamp" },
    { name: "timestamp 301 s old", body: ok(a), timestamp: String(now() - 301), taskId: a, status: 401, code: "stale_timestamp" },
    { name: "duplicate task_id keys, signed for the first", body: `{"code":200,"data":{"task_id":"${a}","task_id":"dup-${a}","audioWavUrl":"${url}"}}`, signFor: a, taskId: `dup-${a}`, status: 401, code: "invalid_signature" },
  ];
}

async function send(c: Case): Promise<Response> {
  const headers = new Headers();
  if (c.contentType !== null) headers.set("content-type", c.contentType ?? "application/json");
  let signFor = c.signFor;
  if (signFor === undefined && typeof c.body === "string") {
    try {
      const v = JSON.parse(c.body) as { data?: { task_id?: unknown } };
      if (typeof v?.data?.task_id === "string") signFor = v.data.task_id;
    } catch {
      /* unsigned garbage */
    }
  }
  if (!c.noSignature) {
    const ts = c.timestamp ?? String(now());
    headers.set("x-webhook-timestamp", ts);
    headers.set("x-webhook-signature", c.signatureHeader ?? (await signature(signFor ?? "", Number(ts) || 0)));
  }
  const method = c.method ?? "POST";
  return call(`/callbacks/wav${c.query ?? ""}`, {
    method,
    headers,
    body: method === "GET" || method === "HEAD" ? null : (c.body ?? null),
  });
}

describe("hostile callbacks", () => {
  const table = cases();
  it("has at least 30 cases", () => {
    expect(table.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of table) {
    it(`${c.name} → ${c.status}${c.code ? ` ${c.code}` : ""}`, async () => {
      const res = await send(c);
      expect(res.status).toBe(c.status);
      const text = await res.text();
      const body = JSON.parse(text);
      expect(body).toEqual({ error: { code: c.code ?? expect.any(String), message: expect.any(String) } });
      expect(text).not.toContain(HMAC_KEY);
      expect(text).not.toContain(API_TOKEN);
      if (c.taskId) expect(await getTask(c.taskId)).toBeNull();
    });
  }

  it("a well-formed one with charset, a BOM-free body and a stray ?token= is accepted", async () => {
    const id = uniqueTaskId("h");
    const res = await send({ name: "ok", contentType: "application/json; charset=utf-8", body: json({ code: 500, msg: "conversion failed", data: { task_id: id } }), query: "?token=ignored", status: 200 });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual({ code: 200, msg: "success" });
    expect((await getTask(id))?.state).toBe("failed");
  });
});

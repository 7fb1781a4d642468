// Delivery attempts to a fake app endpoint (test/helpers/fake-net.ts), each announcement checked
// with the standardwebhooks package's Webhook.verify — a verifier no one here wrote.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config";
import { deliverAnnouncement } from "../../../src/notify/deliver";
import { announcementBody, newMessageId } from "../../../src/notify/message";
import { requests, requestsTo, route, type SeenRequest } from "../../helpers/fake-net";

const SECRET = `whsec_${btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))}`;
const APP = "https://receiver.test/hooks/wav"; // not the standing NOTIFY_URL route of fake-net
// The app's URL may carry its own token; it must never show up in a message.
const APP_WITH_TOKEN = `${APP}?token=app-secret-token`;

const storedBody = () =>
  announcementBody({
    type: "wav.stored",
    reachedAt: Date.now(),
    task: { taskId: "t-stored", state: "stored", wav: { key: "wav/t-stored.wav", size: 44 } },
    download: { url: "https://edge.test/api/tasks/t-stored/wav?expires=1&sig=s", expiresAt: Date.now() + 7 * 86_400_000 },
  });
const failedBody = () =>
  announcementBody({ type: "wav.failed", reachedAt: Date.now(), task: { taskId: "t-failed", state: "failed", error: { code: "451", message: "x" } } });

/** What Webhook.verify makes of a request the fake app received (throws when it does not verify). */
function verified(r: SeenRequest, secret = SECRET): unknown {
  return new Webhook(secret).verify(r.body ?? "", Object.fromEntries(r.headers));
}

/** A body that sends `first` bytes and then nothing until released (or cancelled). */
function stalledBody(first: number) {
  let cancelled = false;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new Uint8Array(first).fill(32));
    },
    async pull(c) {
      await released;
      c.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, release, wasCancelled: () => cancelled };
}

describe("deliverAnnouncement", () => {
  it.each([
    ["wav.stored", storedBody, 204],
    ["wav.failed", failedBody, 200],
  ] as const)("%s: one signed POST that standardwebhooks verifies; a %s is delivery", async (type, makeBody, status) => {
    route("POST", APP, () => new Response(null, { status }));
    const body = makeBody();
    const id = newMessageId();
    const now = Date.now();
    const result = await deliverAnnouncement({ url: APP, secret: SECRET, id, body, now });
    expect(result).toEqual({ status, outcome: "delivered", message: `receiver.test answered ${status}` });

    const [seen] = requestsTo(APP);
    expect(requests).toHaveLength(1);
    expect(seen!.method).toBe("POST");
    expect(seen!.headers.get("content-type")).toBe("application/json");
    expect(seen!.headers.get("webhook-id")).toBe(id);
    expect(seen!.headers.get("webhook-timestamp")).toBe(String(Math.floor(now / 1000)));
    expect(seen!.body).toBe(body);
    const payload = verified(seen!) as { type: string; data: Record<string, unknown> };
    expect(payload.type).toBe(type);
    if (type === "wav.stored") expect(payload.data.downloadUrl).toMatch(/^https:\/\/edge\.test\/api\/tasks\/t-stored\/wav\?/);
    else expect(payload.data).not.toHaveProperty("downloadUrl");
    // Signed with another secret, it does not verify.
    expect(() => verified(seen!, `whsec_${btoa("x".repeat(32))}`)).toThrow(/No matching signature/);
  });

  it("every attempt of one announcement has the same webhook-id and its own timestamp, and each verifies", async () => {
    let n = 0;
    route("POST", APP, () => new Response("busy", { status: ++n < 3 ? 500 : 200 }));
    const id = newMessageId();
    const body = storedBody();
    const t = Date.now();
    const outcomes = [];
    for (const now of [t - 60_000, t - 30_000, t]) outcomes.push((await deliverAnnouncement({ url: APP, secret: SECRET, id, body, now })).outcome);
    expect(outcomes).toEqual(["retry", "retry", "delivered"]);
    const seen = requestsTo(APP);
    expect(seen.map((r) => r.headers.get("webhook-id"))).toEqual([id, id, id]);
    expect(seen.map((r) => Number(r.headers.get("webhook-timestamp")))).toEqual([t - 60_000, t - 30_000, t].map((x) => Math.floor(x / 1000)));
    for (const r of seen) expect(verified(r)).toEqual(JSON.parse(body));
  });

  it("500 → retry, with a message that names only the host (no path, no query string, no secret)", async () => {
    route("POST", APP, () => new Response("oops", { status: 500 }));
    const result = await deliverAnnouncement({ url: APP_WITH_TOKEN, secret: SECRET, id: newMessageId(), body: failedBody() });
    expect(result).toEqual({ status: 500, outcome: "retry", message: "receiver.test answered 500" });
    expect(verified(requestsTo(APP)[0]!)).toMatchObject({ type: "wav.failed" });
  });

  it("410 → gone: stop at once", async () => {
    route("POST", APP, () => new Response("unsubscribed", { status: 410 }));
    const result = await deliverAnnouncement({ url: APP, secret: SECRET, id: newMessageId(), body: storedBody() });
    expect(result).toMatchObject({ status: 410, outcome: "gone" });
    expect(result.message).toMatch(/410/);
  });

  it("302 → retry; the redirect is not followed (redirect: manual) and its Location is never fetched", async () => {
    const elsewhere = "https://elsewhere.test/steal";
    route("POST", APP, () => new Response(null, { status: 302, headers: { location: elsewhere } }));
    route("*", elsewhere, () => new Response("should not be reached"));
    const modes: string[] = [];
    const inner = globalThis.fetch;
    globalThis.fetch = (input, init) => {
      modes.push(new Request(input, init).redirect);
      return inner(input, init);
    };
    try {
      const result = await deliverAnnouncement({ url: APP, secret: SECRET, id: newMessageId(), body: storedBody() });
      expect(result).toEqual({ status: 302, outcome: "retry", message: "receiver.test answered 302 (a redirect, not followed)" });
    } finally {
      globalThis.fetch = inner;
    }
    expect(modes).toEqual(["manual"]);
    expect(requestsTo(elsewhere)).toEqual([]);
    expect(requests).toHaveLength(1);
  });

  it("an app that does not answer within the timeout is a retry, and the attempt ends at about the timeout", async () => {
    let release!: () => void;
    const answered = new Promise<void>((r) => (release = r));
    route("POST", APP, async () => {
      await answered;
      return new Response(null, { status: 200 });
    });
    try {
      const t0 = Date.now();
      const result = await deliverAnnouncement({ url: APP_WITH_TOKEN, secret: SECRET, id: newMessageId(), body: storedBody(), timeoutMs: 300 });
      const took = Date.now() - t0;
      expect(result).toEqual({ status: null, outcome: "retry", message: "receiver.test did not answer within 0.3 s" });
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1500);
    } finally {
      release();
    }
  });

  it.each([
    [200, "delivered"],
    [500, "retry"],
  ] as const)("a %s whose body stalls: the status counts, the body is cancelled at the timeout", async (status, outcome) => {
    const body = stalledBody(100);
    route("POST", APP, () => new Response(body.stream, { status }));
    try {
      const t0 = Date.now();
      const result = await deliverAnnouncement({ url: APP, secret: SECRET, id: newMessageId(), body: failedBody(), timeoutMs: 300 });
      const took = Date.now() - t0;
      expect(result).toMatchObject({ status, outcome });
      expect(took).toBeGreaterThanOrEqual(290);
      expect(took).toBeLessThan(1500);
      // The cancel is not awaited by deliverAnnouncement: wait for it, bounded.
      await expect.poll(() => body.wasCancelled()).toBe(true);
    } finally {
      body.release();
    }
  });

  it("a long answer is not read to the end: a little is drained, then the rest is cancelled", async () => {
    let pulled = 0;
    let cancelled = false;
    const endless = new ReadableStream<Uint8Array>({
      pull(c) {
        pulled += 1024;
        c.enqueue(new Uint8Array(1024));
      },
      cancel() {
        cancelled = true;
      },
    });
    route("POST", APP, () => new Response(endless, { status: 200 }));
    const t0 = Date.now();
    const result = await deliverAnnouncement({ url: APP, secret: SECRET, id: newMessageId(), body: storedBody(), timeoutMs: 5000 });
    expect(result.outcome).toBe("delivered");
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect.poll(() => cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(64 * 1024);
  });

  it("a network error is a retry without status, and its message carries no URL or query string", async () => {
    // No route: fake-net throws a TypeError that quotes the whole URL.
    const result = await deliverAnnouncement({ url: APP_WITH_TOKEN, secret: SECRET, id: newMessageId(), body: storedBody() });
    expect(result.status).toBeNull();
    expect(result.outcome).toBe("retry");
    expect(result.message).toMatch(/^could not reach receiver\.test: /);
    expect(result.message).not.toContain("app-secret-token");
    expect(result.message).not.toContain("/hooks/wav");
  });

  it("an unusable secret is a ConfigError, and nothing is sent", async () => {
    route("POST", APP, () => new Response(null, { status: 204 }));
    await expect(deliverAnnouncement({ url: APP, secret: "whsec_dG9vIHNob3J0", id: newMessageId(), body: "{}" })).rejects.toThrow(ConfigError);
    expect(requests).toEqual([]);
  });
});

// NOTIFY_SECRET rules and Standard Webhooks signatures, checked against the standardwebhooks
// package (a verifier no one here wrote).
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../../src/config";
import { announcementBody, newMessageId } from "../../../src/notify/message";
import { parseNotifySecret } from "../../../src/config";
import { signAnnouncement } from "../../../src/notify/signature";

const b64 = (n: number, fill = 7) => btoa(String.fromCharCode(...new Uint8Array(n).fill(fill)));
export const SECRET = `whsec_${b64(32)}`;

describe("parseNotifySecret", () => {
  it("accepts whsec_ + padded base64 of 24 to 64 bytes and returns the decoded key", () => {
    for (const n of [24, 32, 33, 34, 48, 64]) {
      const parsed = parseNotifySecret(`whsec_${b64(n)}`);
      expect(parsed).toEqual({ ok: true, key: new Uint8Array(n).fill(7) });
    }
    // A trailing newline (as `echo … | wrangler secret put` leaves) is not part of the secret.
    expect(parseNotifySecret(`whsec_${b64(32)}\n`).ok).toBe(true);
  });

  it.each([
    ["no prefix", b64(32), /must start with "whsec_"/],
    ["other prefix", `sk_${b64(32)}`, /must start with "whsec_"/],
    ["empty after the prefix", "whsec_", /standard base64/],
    ["not base64", "whsec_not base64 at all!!", /standard base64/],
    ["base64url", `whsec_${b64(32, 0xfb).replace(/\+/g, "-").replace(/\//g, "_")}`, /standard base64/],
    ["unpadded", `whsec_${b64(32).replace(/=+$/, "")}`, /standard base64/],
    ["23 bytes", `whsec_${b64(23)}`, /24–64 bytes, not 23/],
    ["65 bytes", `whsec_${b64(65)}`, /24–64 bytes, not 65/],
  ])("refuses %s, naming the setting but not its value", (_name, secret, why) => {
    const parsed = parseNotifySecret(secret);
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.message).toMatch(/^NOTIFY_SECRET/);
    expect(parsed.message).toMatch(why);
    const value = secret.replace(/^whsec_/, "");
    if (value.length > 4) expect(parsed.message).not.toContain(value);
  });
});

describe("signAnnouncement", () => {
  it("makes a v1 signature that standardwebhooks verifies, and only for the same id, time and body", async () => {
    const id = newMessageId();
    const ts = Math.floor(Date.now() / 1000);
    const body = announcementBody({ type: "wav.failed", reachedAt: Date.now(), task: { taskId: "t1", state: "failed" } });
    const sig = await signAnnouncement(SECRET, id, ts, body);
    expect(sig).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const wh = new Webhook(SECRET);
    const headers = { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig };
    expect(wh.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => wh.verify(`${body} `, headers)).toThrow(/No matching signature/);
    expect(() => wh.verify(body, { ...headers, "webhook-id": newMessageId() })).toThrow(/No matching signature/);
    expect(() => wh.verify(body, { ...headers, "webhook-timestamp": String(ts + 1) })).toThrow(/No matching signature/);
    expect(() => new Webhook(`whsec_${b64(32, 8)}`).verify(body, headers)).toThrow(/No matching signature/);
  });

  it("matches the package's own signer byte for byte", async () => {
    const ts = 1_700_000_000;
    const body = '{"type":"wav.stored","data":{"taskId":"ü ✓"}}';
    expect(await signAnnouncement(SECRET, "msg_abc", ts, body)).toBe(new Webhook(SECRET).sign("msg_abc", new Date(ts * 1000), body));
  });

  it("an unusable secret is a ConfigError naming NOTIFY_SECRET, not a signature", async () => {
    await expect(signAnnouncement("whsec_short", "msg_x", 1, "{}")).rejects.toThrow(ConfigError);
    await expect(signAnnouncement("whsec_short", "msg_x", 1, "{}")).rejects.toThrow(/^NOTIFY_SECRET/);
  });
});

describe("announcement body and id", () => {
  it("ids are msg_ + 32 hex digits, different every time", () => {
    const ids = new Set(Array.from({ length: 100 }, newMessageId));
    expect(ids.size).toBe(100);
    for (const id of ids) expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  it("wav.stored carries the task, when it was stored, and the download link", () => {
    const task = { taskId: "t1", state: "stored", wav: { key: "wav/t1.wav", size: 10 }, notification: { state: "pending" } };
    const body = announcementBody({
      type: "wav.stored",
      reachedAt: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
      task,
      download: { url: "https://edge.test/api/tasks/t1/wav?expires=1&sig=x", expiresAt: "2026-01-09T03:04:05.000Z" },
    });
    expect(JSON.parse(body)).toEqual({
      type: "wav.stored",
      timestamp: "2026-01-02T03:04:05.678Z",
      data: { ...task, downloadUrl: "https://edge.test/api/tasks/t1/wav?expires=1&sig=x", downloadExpiresAt: "2026-01-09T03:04:05.000Z" },
    });
    expect(Object.keys(JSON.parse(body))).toEqual(["type", "timestamp", "data"]);
  });

  it("a link's expiry may be given in epoch ms; wav.failed has no link and refuses one", () => {
    const stored = JSON.parse(
      announcementBody({ type: "wav.stored", reachedAt: 0, task: { taskId: "t" }, download: { url: "u", expiresAt: Date.UTC(2026, 0, 1) } }),
    );
    expect(stored.data.downloadExpiresAt).toBe("2026-01-01T00:00:00.000Z");
    const failed = JSON.parse(announcementBody({ type: "wav.failed", reachedAt: 0, task: { taskId: "t", error: { code: "451" } } }));
    expect(failed).toEqual({ type: "wav.failed", timestamp: "1970-01-01T00:00:00.000Z", data: { taskId: "t", error: { code: "451" } } });
    expect(() => announcementBody({ type: "wav.failed", reachedAt: 0, task: {}, download: { url: "u", expiresAt: 0 } })).toThrow();
  });
});

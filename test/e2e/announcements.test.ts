// Announcements end to end: the real worker under `wrangler dev`, the provider simulator, and
// "your app" (test/simulator/your-app.ts) — a separate HTTP receiver that verifies every
// announcement with the standardwebhooks package, a verifier no one here wrote.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDemo, type DemoResult } from "../simulator/demo.ts";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { WorkerClient } from "../simulator/worker-client.ts";
import { startYourApp, type YourApp } from "../simulator/your-app.ts";
import { startDevWorker, workerVarsFor, type DevWorker } from "./harness.ts";

const KEYS = { apiToken: "e2e-api-token", hmacKey: "e2e-hmac-key", sunoKey: "e2e-suno-key" };
const SECRET = `whsec_${Buffer.from("e2e-notify-secret-of-32-bytes!!!").toString("base64")}`;

let sim: Simulator;
let app: YourApp;
let dev: DevWorker;
let worker: WorkerClient;
let results: DemoResult[];
/** The first announcement of the failure task is answered 500, the second 200. */
let failureAnswers = [500];

beforeAll(async () => {
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey, callbackDelayMs: 300 });
  app = await startYourApp({
    secret: SECRET,
    port: 0,
    respond: (r) => (r.payload?.type === "wav.failed" ? failureAnswers.shift() : undefined),
  });
  dev = await startDevWorker({ vars: workerVarsFor(sim, KEYS, { NOTIFY_URL: app.url, NOTIFY_SECRET: SECRET }) });
  worker = new WorkerClient(dev.url, KEYS.apiToken);
  results = await runDemo({
    sim,
    worker,
    app,
    expectAnnouncements: true,
    overdueAfterSeconds: 300,
    scenarios: [{ kind: "success" }, { kind: "failure", failureCode: 451, failureMsg: "source audio download failed" }],
  });
}, 120_000);

afterAll(async () => {
  await dev?.stop();
  await app?.stop();
  await sim?.stop();
});

describe("announcements to your app", () => {
  it("every task is announced once it is final, and every announcement verifies", () => {
    expect(results.filter((r) => !r.ok).map((r) => `${r.scenario}: ${r.problems.join("; ")}`)).toEqual([]);
    for (const r of app.received) expect(r.verified).toBe(true);
  });

  it("wav.stored carries a download link that works without the bearer token", () => {
    const stored = results[0]!;
    const [a] = app.announcementsFor(stored.taskId);
    expect(a?.payload?.type).toBe("wav.stored");
    expect(a?.payload?.data.state).toBe("stored");
    expect(stored.announcedDownloadSha256).toBe(stored.servedSha256);
  });

  it("500 then 200: two attempts with one webhook-id, then delivered", async () => {
    const failed = results[1]!;
    await expect.poll(async () => (await worker.get(failed.taskId))?.notification?.state, { timeout: 20_000, interval: 250 }).toBe("delivered");
    const got = app.announcementsFor(failed.taskId);
    expect(got.map((r) => r.status)).toEqual([500, 204]);
    expect(new Set(got.map((r) => r.id)).size).toBe(1);
    expect(got[0]!.payload?.type).toBe("wav.failed");
    expect((await worker.get(failed.taskId))?.notification).toMatchObject({ attempts: 2, lastStatus: 204 });
  });

  it("redelivery sends the same webhook-id again", async () => {
    const stored = results[0]!;
    const before = app.announcementsFor(stored.taskId);
    const res = await worker.redeliver(stored.taskId);
    expect(res.status).toBe(202);
    const again = await app.waitFor((r) => r.payload?.data.taskId === stored.taskId && r.copy === before.length + 1, 10_000);
    expect(again.id).toBe(before[0]!.id);
    expect(again.verified).toBe(true);
    // The app has answered; the worker records that answer a moment later (the runner reports to
    // the shard): waited for, not assumed.
    const outcomes = async () => (await worker.events(stored.taskId)).filter((e) => e.type === "notification").map((e) => e.outcome);
    await expect.poll(outcomes, { timeout: 10_000, interval: 100 }).toEqual(["delivered", "delivered"]);
  });
});

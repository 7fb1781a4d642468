// Review fixes to R2 removals: a removal remembers whose key it is, and a key the task of that id
// refers to again when the removal comes due is kept; staged content a callback or poll brought
// that the task does not need is removed by the shard (with that check), not by the route.
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../../src/index";
import { prepareRunner, shardOf } from "../../helpers/durable";
import { requestsTo, route } from "../../helpers/fake-net";
import { atTime, failingBucket, restoreEnv, swapEnv } from "../../helpers/objects";
import { makeWav, sha256Hex, wavResponse } from "../../helpers/wav";
import { api, getTask, ORIGIN, sendCallback, signature, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";
import { removalRow, runAlarm, until } from "./helpers";

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

const LYRICS_RECORD_INFO = "https://provider.test/api/v1/lyrics/record-info";
const ITEMS = [{ text: "[Verse]\nA quiet street at night", title: "Night", status: "complete", errorMessage: "" }];
const lyricsCallback = (taskId: string) => ({ code: 200, msg: "All generated successfully.", data: { callbackType: "complete", taskId, data: ITEMS } });

async function stagedKeys(taskId: string): Promise<string[]> {
  return (await env.BUCKET.list({ prefix: `lyrics/${taskId}/incoming/` })).objects.map((o) => o.key);
}

/** The R2 object's sha256, or null when there is none. */
async function objectSha(key: string): Promise<string | null> {
  const object = await env.BUCKET.get(key);
  return object ? sha256Hex(await object.arrayBuffer()) : null;
}

describe("a removal that comes due after the id lived again", () => {
  it("DELETE, PUT of the same id, its WAV stored again before the old removal is done: the new WAV and its waveform stay", async () => {
    const taskId = uniqueTaskId("again");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const key = `wav/${taskId}.wav`;
    const [first, second] = [makeWav({ seconds: 1, seed: 81 }), makeWav({ seconds: 1, seed: 82 })];
    let n = 0;
    route("GET", url, () => wavResponse(++n === 1 ? first : second));
    await sendCallback(successBody(taskId, url));
    await waitForAnnounced(taskId, ["stored"]);

    // R2 refuses the shard's first try at removing the deleted task's files: they wait 30 s.
    const shard = shardOf(taskId);
    await swapEnv(shard, { BUCKET: failingBucket(env.BUCKET, "delete") });
    swapped.push(shard);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    await runAlarm(shard);
    await expect.poll(async () => (await removalRow(taskId, key))?.attempts ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);

    // Meanwhile the id is registered again and its WAV is stored again, under the same keys.
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    expect((await sendCallback(successBody(taskId, url), { timestamp: Math.floor(Date.now() / 1000) + 1 })).status).toBe(200);
    await waitForAnnounced(taskId, ["stored"]);
    expect(await objectSha(key)).toBe(await sha256Hex(second));

    // R2 works again; the old removals come due.
    await restoreEnv(shard);
    swapped.length = 0;
    const due = (await removalRow(taskId, key))!.due_at;
    await atTime(due + 1, () => runAlarm(shard));
    expect(await removalRow(taskId, key)).toBeNull();
    expect(await removalRow(taskId, `${key}.peaks.json`)).toBeNull();
    expect(await objectSha(key)).toBe(await sha256Hex(second));
    expect(await env.BUCKET.head(`${key}.peaks.json`)).not.toBeNull();
    const res = await api(`/api/tasks/${taskId}/wav`);
    expect(res.status).toBe(200);
    expect(await sha256Hex(await res.arrayBuffer())).toBe(await sha256Hex(second));
  });

  it("(unchanged) the re-registered id that has not stored the file again: the old file is removed when due", async () => {
    const taskId = uniqueTaskId("again");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const key = `wav/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1, seed: 83 })));
    await sendCallback(successBody(taskId, url));
    await waitForAnnounced(taskId, ["stored"]);
    const shard = shardOf(taskId);
    await swapEnv(shard, { BUCKET: failingBucket(env.BUCKET, "delete") });
    swapped.push(shard);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    await runAlarm(shard);
    await expect.poll(async () => (await removalRow(taskId, key))?.attempts ?? 0, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT" })).status).toBe(201);
    await restoreEnv(shard);
    swapped.length = 0;
    await atTime((await removalRow(taskId, key))!.due_at + 1, () => runAlarm(shard));
    expect(await env.BUCKET.head(key)).toBeNull();
    expect(await removalRow(taskId, key)).toBeNull();
  });
});

describe("staged content a callback or poll brought that the task does not need", () => {
  it("a late callback for a deleted id is not allowed to remove what the id's new life needs (same content, same key)", async () => {
    const taskId = uniqueTaskId("lyr");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "lyrics" }) })).status).toBe(201);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    // The shard's own removals wait (R2 refuses its first try).
    const shard = shardOf(taskId);
    await swapEnv(shard, { BUCKET: failingBucket(env.BUCKET, "delete") });
    swapped.push(shard);

    // A late callback for the deleted id, whose request's removals are slow to reach R2.
    let openDelete!: () => void;
    const deleteGate = new Promise<void>((r) => (openDelete = r));
    let deleteAsked!: () => void;
    const deleteCalled = new Promise<void>((r) => (deleteAsked = r));
    const slowDeletes = new Proxy(env.BUCKET, {
      get(target, prop) {
        if (prop === "delete") {
          return async (keys: string | string[]) => {
            deleteAsked();
            await deleteGate;
            return target.delete(keys);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const ts = Math.floor(Date.now() / 1000);
    const late = (async () => {
      const ctx = createExecutionContext();
      const req = new Request(`${ORIGIN}/callbacks/lyrics`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-webhook-timestamp": String(ts), "x-webhook-signature": await signature(taskId, ts) },
        body: JSON.stringify(lyricsCallback(taskId)),
      });
      const res = await worker.fetch(req, { ...env, BUCKET: slowDeletes } as Env, ctx);
      await waitOnExecutionContext(ctx);
      return res.status;
    })();
    await Promise.race([late, deleteCalled]); // answered (and, before the fix, its removal under way)
    const [key] = await stagedKeys(taskId);
    expect(key).toBeDefined();

    // The id lives again, and the same lyrics arrive: its file is to be made from that very key.
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "lyrics" }) })).status).toBe(201);
    const runner = await prepareRunner(taskId);
    let openGet!: () => void;
    const getGate = new Promise<void>((r) => (openGet = r));
    let gets = 0;
    await swapEnv(runner, {
      BUCKET: new Proxy(env.BUCKET, {
        get(target, prop) {
          if (prop === "get") {
            return async (k: string, o?: R2GetOptions) => {
              gets++;
              await getGate;
              return target.get(k, o);
            };
          }
          const value = Reflect.get(target, prop) as unknown;
          return typeof value === "function" ? value.bind(target) : value;
        },
      }),
    });
    swapped.push(runner);
    expect((await sendCallback(lyricsCallback(taskId), { kind: "lyrics", timestamp: ts + 1 })).status).toBe(200);
    await until(() => gets > 0); // the runner is about to read the staged content

    // The late callback's removal reaches R2 now (before the fix), or comes due in the shard.
    openDelete();
    expect(await late).toBe(200);
    await restoreEnv(shard);
    const row = await removalRow(taskId, key!);
    if (row) await atTime(row.due_at + 1, () => runAlarm(shard));
    expect(await env.BUCKET.head(key!)).not.toBeNull();

    openGet();
    const task = await waitForState(taskId, ["stored", "failed"]);
    expect(task).toMatchObject({ state: "stored", error: null });
    expect(JSON.parse(await (await api(`/api/tasks/${taskId}/files/lyrics.json`)).text())).toEqual(ITEMS);
    // Once stored, the staged copy goes.
    await expect.poll(() => stagedKeys(taskId), { timeout: 10_000 }).toEqual([]);
  });

  it("a poll that answers after DELETE: the content staged from its answer is removed", async () => {
    const taskId = uniqueTaskId("lyr");
    expect((await api(`/api/tasks/${taskId}`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ kind: "lyrics" }) })).status).toBe(201);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    route("GET", LYRICS_RECORD_INFO, async () => {
      await gate;
      return Response.json({ code: 200, msg: "success", data: { taskId, response: { taskId, data: ITEMS }, status: "SUCCESS", type: "LYRICS", errorCode: null, errorMessage: null } });
    });
    const retrying = api(`/api/tasks/${taskId}/retry`, { method: "POST" });
    await expect.poll(() => requestsTo(LYRICS_RECORD_INFO).length, { timeout: 5_000 }).toBe(1);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    release();
    expect((await retrying).status).toBe(404);
    expect(await getTask(taskId)).toBeNull();
    await expect.poll(() => stagedKeys(taskId), { timeout: 10_000 }).toEqual([]);
  });
});

// Issue 18's finding: DELETE answered 500 when R2's delete failed, and a second DELETE never retried
// it. Now: 204 at once, the task is gone from the API (its files unreachable at once), the deletion
// is recorded durably and the files are removed by the shard's alarm, retried until R2 has done it.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { shardOf } from "../../helpers/durable";
import { route } from "../../helpers/fake-net";
import { atTime, failingBucket, restoreEnv, swapEnv } from "../../helpers/objects";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, jsonOf, sendCallback, successBody, uniqueTaskId, waitForAnnounced } from "../../helpers/worker";

const swapped: DurableObjectStub[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const stub of swapped.splice(0)) await restoreEnv(stub);
});

async function removalRow(taskId: string, key: string): Promise<{ due_at: number; attempts: number } | null> {
  return runInDurableObject(shardOf(taskId), (_i, state) =>
    state.storage.sql.exec<{ due_at: number; attempts: number }>("SELECT due_at, attempts FROM removals WHERE key = ?", key).toArray()[0] ?? null,
  );
}

describe("DELETE while R2's delete fails", () => {
  it("204 at once, gone from the API at once, files removed later by the alarm (retried until done)", async () => {
    const taskId = uniqueTaskId("del");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const key = `wav/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1, seed: 41 })));
    await sendCallback(successBody(taskId, url));
    await waitForAnnounced(taskId, ["stored"]);
    expect(await env.BUCKET.head(key)).not.toBeNull();

    // R2 refuses every delete from the task's shard.
    const shard = shardOf(taskId);
    const calls = { n: 0 };
    await swapEnv(shard, { BUCKET: failingBucket(env.BUCKET, "delete", calls) });
    swapped.push(shard);

    const res = await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    expect(res.status).toBe(204);
    // Gone from the API at once: the task, its WAV, its file, its link.
    const get = await api(`/api/tasks/${taskId}`);
    expect(get.status).toBe(404);
    expect((await jsonOf(get)).error.code).toBe("deleted");
    expect((await api(`/api/tasks/${taskId}/wav`)).status).toBe(404);
    expect((await api(`/api/tasks/${taskId}/files/${taskId}.wav`)).status).toBe(404);
    expect((await api(`/api/tasks/${taskId}/link`)).status).toBe(404);

    // The alarm tried (and R2 refused): the removal is kept, to be tried again later.
    await runDurableObjectAlarm(shard);
    await expect.poll(() => calls.n, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    const first = await removalRow(taskId, key);
    expect(first).not.toBeNull();
    expect(first!.attempts).toBeGreaterThanOrEqual(1);
    expect(first!.due_at).toBeGreaterThan(Date.now());
    expect(await env.BUCKET.head(key)).not.toBeNull();

    // Tried again when due: still refused, the gap grows.
    await atTime(first!.due_at + 1, () => runDurableObjectAlarm(shard));
    const second = await removalRow(taskId, key);
    expect(second!.attempts).toBe(first!.attempts + 1);
    const firstGap = first!.due_at - Date.now(); // about 30 s
    expect(firstGap).toBeLessThanOrEqual(30_000);
    expect(second!.due_at - first!.due_at).toBeGreaterThan(firstGap + 10_000);

    // R2 works again: the next alarm removes the file, and the removal is done with.
    await restoreEnv(shard);
    swapped.length = 0;
    await atTime(second!.due_at + 1, () => runDurableObjectAlarm(shard));
    expect(await env.BUCKET.head(key)).toBeNull();
    expect(await removalRow(taskId, key)).toBeNull();
    // Still deleted for the API; a late callback for it is answered 200 and ignored.
    expect((await sendCallback(successBody(taskId, url))).status).toBe(200);
    expect((await jsonOf(await api(`/api/tasks/${taskId}`))).error.code).toBe("deleted");
  });

  it("a second DELETE answers 404 deleted and the pending removal still happens", async () => {
    const taskId = uniqueTaskId("del");
    const url = `https://cdn.example.com/${taskId}.wav`;
    const key = `wav/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 1, seed: 42 })));
    await sendCallback(successBody(taskId, url));
    await waitForAnnounced(taskId, ["stored"]);
    const shard = shardOf(taskId);
    await swapEnv(shard, { BUCKET: failingBucket(env.BUCKET, "delete") });
    swapped.push(shard);
    expect((await api(`/api/tasks/${taskId}`, { method: "DELETE" })).status).toBe(204);
    await runDurableObjectAlarm(shard);
    const again = await api(`/api/tasks/${taskId}`, { method: "DELETE" });
    expect(again.status).toBe(404);
    expect((await jsonOf(again)).error.code).toBe("deleted");
    const row = await removalRow(taskId, key);
    expect(row).not.toBeNull();
    await restoreEnv(shard);
    swapped.length = 0;
    await atTime(row!.due_at + 1, () => runDurableObjectAlarm(shard));
    expect(await env.BUCKET.head(key)).toBeNull();
  });
});

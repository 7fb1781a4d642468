import { describe, expect, it } from "vitest";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, call, jsonOf, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

async function counts(): Promise<Record<string, number>> {
  const res = await api("/api/stats");
  expect(res.status).toBe(200);
  return (await jsonOf(res)).counts;
}

describe("GET /api/stats", () => {
  it("counts the tasks in each state over every shard", async () => {
    const before = await counts();
    expect(Object.keys(before).sort()).toEqual(["downloading", "failed", "pending", "stored"]);

    // Several of each, so that they land in different shards.
    const pending = Array.from({ length: 5 }, () => uniqueTaskId("stats-p"));
    for (const id of pending) expect((await api(`/api/tasks/${id}`, { method: "PUT" })).status).toBe(201);
    const failed = Array.from({ length: 3 }, () => uniqueTaskId("stats-f"));
    for (const id of failed) {
      expect((await sendCallback({ code: 451, msg: "no", data: { task_id: id } })).status).toBe(200);
      await waitForState(id, ["failed"]);
    }
    const stored = uniqueTaskId("stats-s");
    const url = `https://cdn.example.com/${stored}.wav`;
    route("GET", url, () => wavResponse(makeWav({ seconds: 0.2 })));
    await sendCallback(successBody(stored, url));
    await waitForState(stored, ["stored"]);

    const after = await counts();
    expect(after.pending! - before.pending!).toBe(5);
    expect(after.failed! - before.failed!).toBe(3);
    expect(after.stored! - before.stored!).toBe(1);
    expect(after.downloading).toBe(before.downloading);
  });

  it("needs the bearer token", async () => {
    const res = await call("/api/stats");
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
  });
});

// POST /api/tasks/retry?state=failed: every failed task gets another go, a bounded number per call
// (README, "Routes"). Through the HTTP surface, with the real shards and R2.
import { describe, expect, it } from "vitest";
import { BULK_RETRY_PER_SHARD } from "../../../src/routes/tasks";
import { shardNumberOf } from "../../../src/shard/shards";
import { requests, route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, call, getTask, jsonOf, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState } from "../../helpers/worker";

const RETRY = "/api/tasks/retry?state=failed";

/** A task the provider reported as failed (no WAV URL), once its announcement is done (nothing changes it after that). */
async function failedWithoutUrl(prefix = "bulk"): Promise<string> {
  const taskId = uniqueTaskId(prefix);
  expect((await sendCallback({ code: 451, msg: "source download failed", data: { task_id: taskId } })).status).toBe(200);
  await waitForAnnounced(taskId, ["failed"]);
  return taskId;
}

describe("POST /api/tasks/retry?state=failed", () => {
  it("needs the bearer token and state=failed; anything else is a JSON error that changes nothing", async () => {
    const taskId = await failedWithoutUrl();
    const before = await getTask(taskId);

    const anonymous = await call(RETRY, { method: "POST" });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Bearer/);

    for (const query of ["", "?state=stored", "?state=pending", "?state=FAILED", "?stat=failed"]) {
      const res = await api(`/api/tasks/retry${query}`, { method: "POST" });
      expect(res.status, query).toBe(400);
      const body = await jsonOf(res);
      expect(body.error.code).toBe("invalid_query");
      expect(body.error.message).toContain("state");
    }
    expect(await getTask(taskId)).toEqual(before);
  });

  it("is a route of its own: GET, PUT and DELETE /api/tasks/retry are 405, never task 'retry'", async () => {
    for (const method of ["GET", "HEAD", "PUT", "DELETE"]) {
      const res = await api("/api/tasks/retry", { method });
      expect(res.status, method).toBe(405);
      expect(res.headers.get("allow")).toBe("POST");
      if (method !== "HEAD") expect((await jsonOf(res)).error.code).toBe("method_not_allowed");
    }
  });

  it("reopens every failed task: one with a WAV URL is transferred again and stored, one without waits for the cron; others are untouched", async () => {
    // A source that first sends something that is not a WAV (the task fails at once), then the WAV.
    const withUrl = uniqueTaskId("bulk-url");
    const url = `https://cdn.example.com/${withUrl}.wav`;
    let served = 0;
    route("GET", url, () => (served++ === 0 ? new Response("<html>not yet</html>", { headers: { "content-type": "text/html" } }) : wavResponse(makeWav({ seconds: 0.2 }))));
    await sendCallback(successBody(withUrl, url));
    expect((await waitForState(withUrl, ["failed"])).error?.code).toBe("not_a_wav");

    const withoutUrl = await failedWithoutUrl();

    const stored = uniqueTaskId("bulk-stored");
    const storedUrl = `https://cdn.example.com/${stored}.wav`;
    route("GET", storedUrl, () => wavResponse(makeWav({ seconds: 0.2 })));
    await sendCallback(successBody(stored, storedUrl));
    const storedBefore = await waitForAnnounced(stored, ["stored"]);

    const polls = () => requests.filter((r) => r.url.includes("/record-info") && r.url.includes(withoutUrl)).length;
    const res = await api(RETRY, { method: "POST" });
    expect(res.status).toBe(202);
    const body = await jsonOf(res);
    expect(body).toEqual({ retried: expect.any(Number), remaining: 0, more: false });
    expect(body.retried).toBeGreaterThanOrEqual(2);

    expect((await waitForState(withUrl, ["stored"])).wav?.size).toBeGreaterThan(0);
    // No URL was ever given: it is pending again, due for the cron now, and nobody was asked yet.
    const reopened = (await getTask(withoutUrl))!;
    expect(reopened.state).toBe("pending");
    expect(reopened.error).toBeNull();
    expect(Date.parse(reopened.nextAttemptAt!)).toBeLessThanOrEqual(Date.now());
    expect(polls()).toBe(0);
    expect(await getTask(stored)).toEqual(storedBefore);

    const events = (await jsonOf(await api(`/api/tasks/${withoutUrl}/events`))).events;
    expect(events.at(-1)).toMatchObject({ type: "retry_requested", state: "failed", bulk: true });
  });

  it("does bounded work per call: each shard reopens at most its share, and the answer says more remain", async () => {
    // More failed tasks in one shard than a call reopens there.
    const shard = shardNumberOf(uniqueTaskId("bulk-pick"));
    const ids: string[] = [];
    while (ids.length < BULK_RETRY_PER_SHARD + 3) {
      const id = uniqueTaskId("bulk-many");
      if (shardNumberOf(id) === shard) ids.push(id);
    }
    for (const id of ids) expect((await sendCallback({ code: 500, msg: "conversion failed", data: { task_id: id } })).status).toBe(200);
    for (const id of ids) await waitForState(id, ["failed"]);

    const stillFailed = async () => (await Promise.all(ids.map((id) => getTask(id)))).filter((t) => t?.state === "failed").length;

    const first = await jsonOf(await api(RETRY, { method: "POST" }));
    expect(first.more).toBe(true);
    expect(first.remaining).toBeGreaterThanOrEqual(3);
    expect(first.retried).toBeGreaterThanOrEqual(BULK_RETRY_PER_SHARD);
    expect(await stillFailed()).toBeGreaterThanOrEqual(3);
    expect(await stillFailed()).toBeLessThanOrEqual(ids.length - (BULK_RETRY_PER_SHARD - 1));

    const second = await jsonOf(await api(RETRY, { method: "POST" }));
    expect(second).toMatchObject({ remaining: 0, more: false });
    expect(await stillFailed()).toBe(0);
  });
});

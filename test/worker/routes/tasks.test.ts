import { describe, expect, it } from "vitest";
import type { TaskView } from "../../../src/task/view";
import { requestsTo, route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, API_TOKEN, callWith, clockTick, getTask, sendCallback, successBody, uniqueTaskId, waitForAnnounced, waitForState, jsonOf } from "../../helpers/worker";

const GENERATE = "https://provider.test/api/v1/wav/generate";

function submit(body: unknown) {
  return api("/api/tasks", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

describe("POST /api/tasks", () => {
  it("submits to the provider with this worker's callBackUrl and registers the WAV task", async () => {
    const wavTaskId = uniqueTaskId("wav");
    route("POST", GENERATE, () => Response.json({ code: 200, msg: "success", data: { taskId: wavTaskId } }));
    const musicTaskId = uniqueTaskId("music");
    const res = await submit({ taskId: musicTaskId, audioId: "audio-1" });
    expect(res.status).toBe(202);
    const task = (await jsonOf(res)) as TaskView;
    expect(task).toMatchObject({ taskId: wavTaskId, state: "pending", attempts: 0, source: null, wav: null, error: null });
    expect(Date.parse(task.createdAt)).not.toBeNaN();

    const [sent] = requestsTo(GENERATE);
    expect(sent!.headers.get("authorization")).toBe("Bearer test-suno-key");
    expect(JSON.parse(sent!.body!)).toEqual({ taskId: musicTaskId, audioId: "audio-1", callBackUrl: "https://edge.test/callbacks/wav" });
    expect((await getTask(wavTaskId))?.state).toBe("pending");
  });

  for (const [code, msg] of [
    [400, "Invalid parameters"],
    [401, "Unauthorized"],
    [405, "Rate limited"],
    [409, "WAV record already exists"],
    [413, "Theme or prompt too long"],
    [429, "Insufficient credits"],
    [430, "Call frequency too high"],
    [455, "System maintenance"],
    [500, "Server error"],
  ] as const) {
    it(`provider code ${code} → 502 with the provider's code and msg, nothing registered`, async () => {
      // Even were a task id to come with the error, nothing may be registered for it.
      const wavTaskId = uniqueTaskId("refused");
      route("POST", GENERATE, () => Response.json({ code, msg, data: { taskId: wavTaskId } }));
      const res = await submit({ taskId: uniqueTaskId("music"), audioId: "audio-1" });
      expect(res.status).toBe(502);
      const body = await jsonOf(res);
      expect(body.error).toMatchObject({ code: "provider_error", providerCode: code, providerMsg: msg });
      expect(body.error.message).toContain(msg);
      expect(await getTask(wavTaskId)).toBeNull();
    });
  }

  it("a provider error that quotes the callBackUrl encoded does not leak CALLBACK_TOKEN", async () => {
    const TOKEN = "s3cr+t/tok=en-probe"; // base64-like: changes when URL-encoded
    route("POST", GENERATE, async (req) => {
      const body = JSON.parse(await req.text()) as { callBackUrl: string };
      return Response.json({ code: 400, msg: `callBackUrl=${encodeURIComponent(body.callBackUrl)} is not reachable; raw ${body.callBackUrl}` });
    });
    const res = await callWith({ CALLBACK_TOKEN: TOKEN }, "/api/tasks", {
      method: "POST",
      headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ taskId: uniqueTaskId("music"), audioId: "a1" }),
    });
    expect(res.status).toBe(502);
    const text = await res.text();
    for (const form of [text, decodeURIComponent(text), decodeURIComponent(decodeURIComponent(text))]) expect(form).not.toContain(TOKEN);
    expect(text).toContain("is not reachable");
  });

  it("an HTTP failure of the provider → 502", async () => {
    route("POST", GENERATE, () => new Response("<html>Bad gateway</html>", { status: 502 }));
    const res = await submit({ taskId: uniqueTaskId("music"), audioId: "audio-1" });
    expect(res.status).toBe(502);
    expect((await jsonOf(res)).error.providerCode).toBe(502);
  });

  it("an unreachable provider → 502", async () => {
    const res = await submit({ taskId: uniqueTaskId("music"), audioId: "audio-1" }); // no route: the fetch fails
    expect(res.status).toBe(502);
  });

  it("a bad body is 400 and calls nobody", async () => {
    for (const body of [{}, { taskId: "m" }, { taskId: 5, audioId: "a" }, { taskId: "", audioId: "a" }]) {
      const res = await submit(body);
      expect(res.status).toBe(400);
      expect((await jsonOf(res)).error.code).toBe("invalid_body");
    }
    expect(requestsTo(GENERATE)).toHaveLength(0);
  });
});

describe("PUT /api/tasks/:taskId", () => {
  it("registers once (201) and is idempotent (200)", async () => {
    const taskId = uniqueTaskId("reg");
    const first = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(first.status).toBe(201);
    const created = await jsonOf(first);
    expect(created).toMatchObject({ taskId, state: "pending" });
    const second = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(second.status).toBe(200);
    expect(await jsonOf(second)).toEqual(created);
  });

  it("registering a task that already has its WAV changes nothing", async () => {
    const taskId = uniqueTaskId("reg");
    const url = `https://cdn.example.com/${taskId}.wav`;
    route("GET", url, () => wavResponse(makeWav()));
    await sendCallback(successBody(taskId, url));
    const stored = await waitForAnnounced(taskId, ["stored"]);
    const res = await api(`/api/tasks/${taskId}`, { method: "PUT" });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toEqual(stored);
  });

  it("refuses task ids that are not plain", async () => {
    for (const bad of ["a%2Fb", "a.b", "%E2%9C%93", "x".repeat(129)]) {
      const res = await api(`/api/tasks/${bad}`, { method: "PUT" });
      expect(res.status).toBe(400);
      expect((await jsonOf(res)).error.code).toBe("invalid_task_id");
    }
  });
});

describe("GET /api/tasks", () => {
  async function allPages(query: string): Promise<TaskView[][]> {
    const pages: TaskView[][] = [];
    let cursor: string | null = null;
    do {
      const res = await api(`/api/tasks?${query}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const body = (await jsonOf(res)) as { tasks: TaskView[]; cursor: string | null };
      pages.push(body.tasks);
      cursor = body.cursor;
    } while (cursor !== null && pages.length < 500);
    return pages;
  }

  it("lists newest first in stable pages, without repeats or gaps", async () => {
    const mine: string[] = [];
    for (let i = 0; i < 7; i++) {
      const id = uniqueTaskId("list");
      mine.push(id);
      await api(`/api/tasks/${id}`, { method: "PUT" });
      await clockTick(); // distinct creation times
    }
    const pages = await allPages("limit=3");
    expect(pages.every((p) => p.length <= 3)).toBe(true);
    const all = pages.flat();
    const ids = all.map((t) => t.taskId);
    expect(new Set(ids).size).toBe(ids.length);
    const times = all.map((t) => Date.parse(t.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(ids.filter((id) => mine.includes(id))).toEqual([...mine].reverse());
  });

  it("filters by state", async () => {
    const failedId = uniqueTaskId("list");
    await sendCallback({ code: 451, msg: "source download failed", data: { task_id: failedId } });
    const pendingId = uniqueTaskId("list");
    await api(`/api/tasks/${pendingId}`, { method: "PUT" });
    // Callback-made tasks reach the index from their object's alarm, a moment later.
    await expect
      .poll(async () => (await allPages("state=failed&limit=50")).flat().map((t) => t.taskId), { timeout: 5_000 })
      .toContain(failedId);
    const failed = (await allPages("state=failed&limit=50")).flat();
    expect(failed.every((t) => t.state === "failed")).toBe(true);
    expect(failed.map((t) => t.taskId)).not.toContain(pendingId);
    const listed = failed.find((t) => t.taskId === failedId)!;
    expect(listed.error).toEqual({ code: "451", message: "source download failed" });
    expect((await allPages("state=pending&limit=50")).flat().map((t) => t.taskId)).toContain(pendingId);
  });

  it("rejects bad queries with 400", async () => {
    for (const q of ["state=done", "limit=0", "limit=101", "limit=x", "cursor=%%%"]) {
      const res = await api(`/api/tasks?${q}`);
      expect(res.status).toBe(400);
      expect((await jsonOf(res)).error.code).toBe("invalid_query");
    }
  });
});

describe("PUBLIC_URL with a path", () => {
  it("the submitted callBackUrl keeps PUBLIC_URL's path (and its token)", async () => {
    const wavTaskId = uniqueTaskId("wav");
    route("POST", GENERATE, () => Response.json({ code: 200, msg: "success", data: { taskId: wavTaskId } }));
    const res = await callWith({ PUBLIC_URL: "https://example.com/wav-edge/", CALLBACK_TOKEN: "tok" }, "/api/tasks", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${API_TOKEN}` },
      body: JSON.stringify({ taskId: "music-p", audioId: "audio-p" }),
    });
    expect(res.status).toBe(202);
    const sent = JSON.parse(requestsTo(GENERATE)[0]!.body!);
    expect(sent.callBackUrl).toBe("https://example.com/wav-edge/callbacks/wav?token=tok");
  });

  it("PUBLIC_URL with a query string is refused as misconfigured", async () => {
    const res = await callWith({ PUBLIC_URL: "https://example.com/wav-edge?x=1" }, "/api/tasks/whatever", {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(res.status).toBe(500);
    const body = await jsonOf(res);
    expect(body.error.code).toBe("misconfigured");
    expect(body.error.message).toContain("PUBLIC_URL");
  });
});

import { describe, expect, it } from "vitest";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, sendCallback, successBody, uniqueTaskId, waitForState, jsonOf } from "../../helpers/worker";

async function storedTask(wav = makeWav({ seconds: 1 })) {
  const taskId = uniqueTaskId("dl");
  const url = `https://cdn.example.com/${taskId}.wav`;
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return { taskId, wav };
}

describe("GET/HEAD /api/tasks/:taskId/wav", () => {
  it("serves the stored WAV with its headers", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    expect(res.headers.get("content-length")).toBe(String(wav.length));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${taskId}.wav"`);
    expect(res.headers.get("etag")).toMatch(/^"[0-9a-f]+"$/);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav);
  });

  it("HEAD answers the same headers without a body", async () => {
    const { taskId, wav } = await storedTask();
    const get = await api(`/api/tasks/${taskId}/wav`);
    await get.arrayBuffer();
    const head = await api(`/api/tasks/${taskId}/wav`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(wav.length));
    expect(head.headers.get("etag")).toBe(get.headers.get("etag"));
    expect(head.headers.get("content-type")).toBe("audio/wav");
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });

  it("Range gives 206 with the requested bytes", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=100-199" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 100-199/${wav.length}`);
    expect(res.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav.slice(100, 200));

    const tail = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=-10" } });
    expect(tail.status).toBe(206);
    expect(tail.headers.get("content-range")).toBe(`bytes ${wav.length - 10}-${wav.length - 1}/${wav.length}`);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(wav.slice(-10));

    const open = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=44-" } });
    expect(open.status).toBe(206);
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(wav.slice(44));
  });

  it("an opening Range of the whole WAV (bytes=0-, as a player sends) is 206 too", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=0-" } });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes 0-${wav.length - 1}/${wav.length}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav);
  });

  it("If-None-Match with the ETag gives 304; another ETag gives the body", async () => {
    const { taskId } = await storedTask();
    const first = await api(`/api/tasks/${taskId}/wav`);
    const etag = first.headers.get("etag")!;
    await first.arrayBuffer();
    const again = await api(`/api/tasks/${taskId}/wav`, { headers: { "if-none-match": etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get("etag")).toBe(etag);
    const headAgain = await api(`/api/tasks/${taskId}/wav`, { method: "HEAD", headers: { "if-none-match": etag } });
    expect(headAgain.status).toBe(304);
    const other = await api(`/api/tasks/${taskId}/wav`, { headers: { "if-none-match": '"something-else"' } });
    expect(other.status).toBe(200);
    await other.arrayBuffer();
  });

  it("404 with a JSON error: not_stored for a known task without a WAV, not_found for an unknown one", async () => {
    const known = uniqueTaskId();
    expect((await api(`/api/tasks/${known}`, { method: "PUT" })).status).toBe(201);
    const res = await api(`/api/tasks/${known}/wav`);
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.code).toBe("not_stored");
    const unknown = await api(`/api/tasks/${uniqueTaskId()}/wav`);
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error.code).toBe("not_found");
  });

  it("a range beyond the end is 416 with the size (SPEC), not a partial or whole body", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range: `bytes=${wav.length + 10}-${wav.length + 20}` } });
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${wav.length}`);
  });

  it("If-Match with another ETag is 412; If-Modified-Since after the upload is 304", async () => {
    const { taskId } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { "if-match": '"not-this-one"' } });
    expect(res.status).toBe(412);
    expect((await jsonOf(res)).error.code).toBe("precondition_failed");
    const later = new Date(Date.now() + 3_600_000).toUTCString();
    expect((await api(`/api/tasks/${taskId}/wav`, { headers: { "if-modified-since": later } })).status).toBe(304);
  });

  it("a malformed Range is ignored: 200 with the whole WAV", async () => {
    const { taskId, wav } = await storedTask();
    const res = await api(`/api/tasks/${taskId}/wav`, { headers: { range: "bytes=abc" } });
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(wav);
  });
});

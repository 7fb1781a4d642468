import { afterEach, describe, expect, it, vi } from "vitest";
import { route } from "../../helpers/fake-net";
import { makeWav, wavResponse } from "../../helpers/wav";
import { api, API_TOKEN, call, callWith, jsonOf, ORIGIN, sendCallback, successBody, uniqueTaskId, waitForState } from "../../helpers/worker";

afterEach(() => {
  vi.useRealTimers();
});

async function storedTask() {
  const taskId = uniqueTaskId("link");
  const url = `https://cdn.example.com/${taskId}.wav`;
  const wav = makeWav({ seconds: 0.5 });
  route("GET", url, () => wavResponse(wav));
  await sendCallback(successBody(taskId, url));
  await waitForState(taskId, ["stored"]);
  return { taskId, wav };
}

/** The path and query of a link, to call the Worker under test with. */
const local = (link: string) => link.slice(ORIGIN.length);

describe("GET /api/tasks/:taskId/link", () => {
  it("returns a signed, expiring URL that downloads without the bearer token", async () => {
    const { taskId, wav } = await storedTask();
    const before = Date.now();
    const res = await api(`/api/tasks/${taskId}/link?ttl=600`);
    expect(res.status).toBe(200);
    const { url, expiresAt } = await jsonOf(res);
    expect(url.startsWith(`${ORIGIN}/api/tasks/${taskId}/wav?expires=`)).toBe(true);
    expect(Date.parse(expiresAt) - before).toBeGreaterThan(590_000);
    expect(Date.parse(expiresAt) - before).toBeLessThanOrEqual(601_000);

    const download = await call(local(url));
    expect(download.status).toBe(200);
    expect(download.headers.get("content-disposition")).toBe(`attachment; filename="${taskId}.wav"`);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(wav);
    const ranged = await call(local(url), { headers: { range: "bytes=0-11" } });
    expect(ranged.status).toBe(206);
    expect(new TextDecoder().decode(await ranged.arrayBuffer())).toMatch(/^RIFF....WAVE$/s);
  });

  it("altered or expired links are 403", async () => {
    const { taskId } = await storedTask();
    const other = await storedTask();
    const { url } = await jsonOf(await api(`/api/tasks/${taskId}/link?ttl=60`));
    const u = new URL(url);
    const sig = u.searchParams.get("sig")!;
    const expires = u.searchParams.get("expires")!;
    const variants = [
      `/api/tasks/${taskId}/wav?expires=${expires}&sig=${sig.slice(0, -2)}AA`,
      `/api/tasks/${taskId}/wav?expires=${Number(expires) + 3600}&sig=${sig}`,
      `/api/tasks/${other.taskId}/wav?expires=${expires}&sig=${sig}`,
      `/api/tasks/${taskId}/wav?expires=${expires}`,
      `/api/tasks/${taskId}/wav?sig=${sig}`,
      `/api/tasks/${taskId}/wav?expires=${expires}&sig=`,
      `/api/tasks/${taskId}/wav?expires=abc&sig=${sig}`,
    ];
    for (const path of variants) {
      const res = await call(path);
      expect(res.status, path).toBe(403);
      expect((await jsonOf(res)).error.code).toBe("invalid_link");
    }
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() + 61_000);
    const expired = await call(local(url));
    expect(expired.status).toBe(403);
  });

  it("a link opens only the download, not the rest of the API", async () => {
    const { taskId } = await storedTask();
    const { url } = await jsonOf(await api(`/api/tasks/${taskId}/link`));
    const query = new URL(url).search;
    expect((await call(`/api/tasks/${taskId}${query}`)).status).toBe(401);
    expect((await call(`/api/tasks/${taskId}/link${query}`)).status).toBe(401);
  });

  it("checks ttl and that the WAV is stored", async () => {
    const { taskId } = await storedTask();
    for (const ttl of ["0", "-5", "abc", String(7 * 24 * 3600 + 1)]) {
      const res = await api(`/api/tasks/${taskId}/link?ttl=${ttl}`);
      expect(res.status).toBe(400);
    }
    const pending = uniqueTaskId("link");
    await api(`/api/tasks/${pending}`, { method: "PUT" });
    const res = await api(`/api/tasks/${pending}/link`);
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.code).toBe("not_stored");
    expect((await api(`/api/tasks/${uniqueTaskId("none")}/link`)).status).toBe(404);
  });
});

describe("links under a PUBLIC_URL with a path", () => {
  it("the link lives under PUBLIC_URL's path and is signed for the worker's own path", async () => {
    const { taskId, wav } = await storedTask();
    const res = await callWith({ PUBLIC_URL: "https://example.com/wav-edge" }, `/api/tasks/${taskId}/link?ttl=600`, {
      headers: { authorization: `Bearer ${API_TOKEN}` },
    });
    expect(res.status).toBe(200);
    const { url } = await jsonOf(res);
    expect(url.startsWith(`https://example.com/wav-edge/api/tasks/${taskId}/wav?expires=`)).toBe(true);
    // A proxy mounting the worker at /wav-edge hands it the path without the prefix.
    const download = await call(url.slice("https://example.com/wav-edge".length));
    expect(download.status).toBe(200);
    expect(new Uint8Array(await download.arrayBuffer())).toEqual(wav);
  });
});

// The provider simulator's own answers, as a person trying things by hand meets them.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";

let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ port: 0 });
});

afterAll(async () => {
  await sim?.stop();
});

describe("simulator file server", () => {
  it.each(["/missing.wav", "/files/x.wav", "/wav/no-extension", "/wav/bad name.wav"])("a file it does not have, %s, is HTTP 404", async (path) => {
    const res = await fetch(`${sim.url}${path}`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).not.toContain("audio/wav");
    await res.text();
  });

  it("a WAV it makes is 200 audio/wav with its length", async () => {
    const res = await fetch(sim.wavUrl("file-server-check", { bytes: 1000 }));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/wav");
    const body = new Uint8Array(await res.arrayBuffer());
    expect(body.byteLength).toBe(1000);
    expect(new TextDecoder().decode(body.slice(0, 4))).toBe("RIFF");
  });

  it("an unknown API route answers in the provider's style (HTTP 200, code 404)", async () => {
    const res = await fetch(`${sim.url}/api/v1/nothing`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { code: number }).code).toBe(404);
  });
});

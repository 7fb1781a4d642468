// `npm start` runs the Cron Trigger locally (SPEC.md, "Local development"): the worker is started
// the way `npm start` starts it (test/local/start.ts in front of `wrangler dev`), a task is
// registered with PUT and nobody calls /__scheduled — the script's own ticks must poll it.
// The script ticks every few seconds here (LOCAL_CRON_EVERY_SECONDS) instead of every minute.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSimulator, type Simulator } from "../simulator/simulator.ts";
import { descendants, freePort, REPO_ROOT, workerVarsFor } from "./harness.ts";

const KEYS = { apiToken: "e2e-api-token", hmacKey: "e2e-hmac-key", sunoKey: "e2e-suno-key" };
const TICK_SECONDS = 3;

let sim: Simulator;
let tmp: string;
let url: string;
let child: ChildProcess;
let output = "";
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

/** `npm start`'s command line from package.json, on another port, with test state and settings. */
function startCommand(port: number, persistTo: string, envFile: string): string[] {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
  const [node, script, ...args] = pkg.scripts.start!.split(/\s+/);
  expect([node, script]).toEqual(["node", "test/local/start.ts"]);
  const at = args.indexOf("--port");
  expect(at).toBeGreaterThanOrEqual(0);
  args[at + 1] = String(port);
  return [script!, ...args, "--persist-to", persistTo, "--env-file", envFile];
}

async function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${url}${path}`, { ...init, headers: { authorization: `Bearer ${KEYS.apiToken}`, ...init.headers } });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not in time; output so far:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // triggerCron off: the simulator must not call /__scheduled; only the start script may.
  sim = await startSimulator({ port: 0, apiKey: KEYS.sunoKey, hmacKey: KEYS.hmacKey, triggerCron: false });
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  tmp = mkdtempSync(join(tmpdir(), "wav-edge-start-"));
  const envFile = join(tmp, "dev.env");
  const vars = workerVarsFor(sim, KEYS, { OVERDUE_AFTER_SECONDS: "1" })({ url });
  writeFileSync(envFile, Object.entries(vars).map(([k, v]) => `${k}='${v}'\n`).join(""), { mode: 0o600 });

  child = spawn(process.execPath, startCommand(port, join(tmp, "state"), envFile), {
    cwd: REPO_ROOT,
    detached: true, // its own process group, killed as a whole only if it will not stop
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOCAL_CRON_EVERY_SECONDS: String(TICK_SECONDS), WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", FORCE_COLOR: "0", CLOUDFLARE_INCLUDE_PROCESS_ENV: "false" },
  });
  exited = new Promise((done) => child.once("exit", (code, signal) => done({ code, signal })));
  child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
  child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
  await until("the worker answers /healthz", async () => ((await fetch(`${url}/healthz`)).ok ? true : undefined), 90_000);
}, 120_000);

afterAll(async () => {
  if (child?.pid && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await sim?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("npm start runs the cron", () => {
  it("a task registered with PUT is polled and stored without anyone calling /__scheduled", async () => {
    // A conversion the provider knows (submitted elsewhere), finished, whose callback never came.
    const task = sim.submit({ taskId: "music-local-cron", audioId: "late-local-cron", callBackUrl: `${url}/callbacks/wav` }, { kind: "late", readyAfterMs: 0 });
    const put = await api(`/api/tasks/${task.taskId}`, { method: "PUT" });
    expect(put.status).toBe(201);
    expect(((await put.json()) as { state: string }).state).toBe("pending");

    const stored = await until(
      "the task is stored",
      async () => {
        const body = (await (await api(`/api/tasks/${task.taskId}`)).json()) as { state: string };
        return body.state === "stored" ? body : undefined;
      },
      45_000,
    );
    expect(stored.state).toBe("stored");
    expect(task.recordInfoCalls).toBeGreaterThanOrEqual(1);
    expect(task.callbacks).toEqual([]);
    expect(task.cronTriggers).toEqual([]);
    expect(sim.counters.cronTriggers).toBe(0);
    // One line per tick from the script, and the worker's own cron_tick line.
    expect(output).toMatch(/\[local cron\] \S+ ran the scheduled handler/);
    expect(output).toContain('"event":"cron_tick"');
  });

  it("SIGTERM reaches wrangler: the script exits with it and leaves no process behind", async () => {
    const pid = child.pid!;
    const before = descendants(pid);
    expect(before.length).toBeGreaterThan(0);
    process.kill(pid, "SIGTERM");
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 20_000).unref());
    const result = await Promise.race([exited, timeout]);
    expect(result).not.toBe("timeout");
    // wrangler ends on SIGTERM; the script passes on its code (or 128 + the signal).
    expect(result).toMatchObject({ signal: null });
    // Still running (a zombie has ended; only its reaper is late). The script's children end
    // on their own after it: waited for, up to 10 s (a loaded machine takes a moment).
    const alive = () =>
      before.filter((p) => {
        try {
          const stat = readFileSync(`/proc/${p}/stat`, "utf8");
          return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
        } catch {
          return false;
        }
      });
    await expect.poll(alive, { timeout: 10_000, interval: 100 }).toEqual([]);
  });
});

// "Your app": a stand-in for the user's own backend that the worker announces finished tasks to
// (SPEC.md, "Notifications"). It verifies every announcement with the standardwebhooks npm package
// — the verifier a user would reach for, written by no one here — records it, and answers 204
// (401 when the signature does not verify). The demo (./demo.ts) prints what arrives in each task's
// journey; tests can script other answers (500, 410, a slow answer) with `respond`.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export const YOUR_APP_PORT = 8789;
export const YOUR_APP_PATH = "/hooks/wav";
const MAX_BODY_BYTES = 1024 * 1024;

/** An announcement's body as SPEC.md describes it. */
export interface AnnouncementPayload {
  /** `<kind>.stored` or `<kind>.failed`: wav.stored, music.stored, midi.failed, … */
  type: string;
  timestamp: string;
  data: {
    taskId: string;
    kind?: string;
    state: string;
    /** wav.stored: the WAV's signed link. */
    downloadUrl?: string;
    downloadExpiresAt?: string;
    /** Every stored file carries its own signed link. */
    files?: { name: string; state: string; sha256: string | null; downloadUrl?: string; downloadExpiresAt?: string }[];
    [k: string]: unknown;
  };
}

/** One POST the app received. */
export interface Received {
  at: number;
  /** webhook-id, webhook-timestamp, webhook-signature as sent (null when missing). */
  id: string | null;
  timestamp: string | null;
  signature: string | null;
  contentType: string | null;
  body: string;
  /** True when Webhook.verify accepted it; else `error` says why. */
  verified: boolean;
  error: string | null;
  /** The verified body (null unless verified). */
  payload: AnnouncementPayload | null;
  /** How many times this webhook-id arrived, this one included (2+ = a retry or redelivery). */
  copy: number;
  /** What the app answered. */
  status: number;
}

/** What to answer instead of 204: a status, optionally after a delay (a slow app). */
export type Answer = number | { status: number; delayMs?: number };

export interface YourAppOptions {
  /** The NOTIFY_SECRET the worker signs with ("whsec_…"). */
  secret: string;
  /** Default 8789; 0 picks a free port. */
  port?: number;
  host?: string;
  /** Default /hooks/wav. */
  path?: string;
  /** Scripted answers for verified announcements; undefined means 204. */
  respond?: (r: Received) => Answer | undefined;
}

export interface YourApp {
  /** The NOTIFY_URL to give the worker. */
  readonly url: string;
  readonly port: number;
  readonly received: Received[];
  /** Verified announcements about one task, in arrival order. */
  announcementsFor(taskId: string): Received[];
  /** Called for every POST to the path, after it was answered. */
  on(listener: (r: Received) => void): () => void;
  /** The first received announcement matching `test` (already arrived, or arriving within the timeout). */
  waitFor(test: (r: Received) => boolean, timeoutMs?: number): Promise<Received>;
  stop(): Promise<void>;
}

export async function startYourApp(options: YourAppOptions): Promise<YourApp> {
  const webhook = new Webhook(options.secret); // throws early on a secret it cannot use
  const host = options.host ?? "127.0.0.1";
  const path = options.path ?? YOUR_APP_PATH;
  const received: Received[] = [];
  const copies = new Map<string, number>();
  const listeners = new Set<(r: Received) => void>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://your-app");
    if (url.pathname !== path) return answer(res, 404, { error: "not found" });
    if (req.method !== "POST") return answer(res, 405, { error: "POST only" }, { allow: "POST" });
    const body = await readBody(req);
    if (body === null) return answer(res, 413, { error: "body too large" });

    const header = (name: string) => {
      const v = req.headers[name];
      return typeof v === "string" ? v : null;
    };
    const r: Received = {
      at: Date.now(),
      id: header("webhook-id"),
      timestamp: header("webhook-timestamp"),
      signature: header("webhook-signature"),
      contentType: header("content-type"),
      body,
      verified: false,
      error: null,
      payload: null,
      copy: 0,
      status: 204,
    };
    try {
      r.payload = webhook.verify(body, {
        "webhook-id": r.id ?? "",
        "webhook-timestamp": r.timestamp ?? "",
        "webhook-signature": r.signature ?? "",
      }) as AnnouncementPayload;
      r.verified = true;
    } catch (err) {
      r.error = (err as Error).message;
      r.status = 401;
    }
    if (r.id !== null) {
      r.copy = (copies.get(r.id) ?? 0) + 1;
      copies.set(r.id, r.copy);
    }
    let delayMs = 0;
    if (r.verified) {
      const scripted = options.respond?.(r);
      if (typeof scripted === "number") r.status = scripted;
      else if (scripted) {
        r.status = scripted.status;
        delayMs = scripted.delayMs ?? 0;
      }
    }
    received.push(r);
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (r.status === 204) answer(res, 204);
    else answer(res, r.status, r.verified ? { ok: r.status < 300 } : { error: `signature not verified: ${r.error}` });
    for (const l of listeners) {
      try {
        l(r);
      } catch {
        // a listener's trouble is not the app's
      }
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) answer(res, 500, { error: String(err) });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? YOUR_APP_PORT, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://${host}:${port}${path}`,
    port,
    received,
    announcementsFor: (taskId) => received.filter((r) => r.verified && r.payload?.data.taskId === taskId),
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor(test, timeoutMs = 30_000) {
      const already = received.find(test);
      if (already) return Promise.resolve(already);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          off();
          reject(new Error(`no matching announcement within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const listener = (r: Received) => {
          if (!test(r)) return;
          clearTimeout(timer);
          off();
          resolve(r);
        };
        const off = () => listeners.delete(listener);
        listeners.add(listener);
      });
    },
    async stop() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

function answer(res: ServerResponse, status: number, json?: unknown, headers: Record<string, string> = {}): void {
  if (json === undefined) {
    res.writeHead(status, headers).end();
    return;
  }
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(json));
}

/** The body as text, or null past MAX_BODY_BYTES. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

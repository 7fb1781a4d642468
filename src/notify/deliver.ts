// One delivery attempt of an announcement to NOTIFY_URL (README, "Notifications"). It never
// throws for anything the app or the network does and never takes much longer than its timeout,
// so a slow or broken app cannot hold up the runner that calls it.

import { errorText } from "../lib/redact";
import { signAnnouncement } from "./signature";

const DELIVERY_TIMEOUT_MS = 15_000;
/** How much of the app's answer is read (then cancelled): enough to end a short answer cleanly. */
const DRAIN_BYTES = 4 * 1024;

export interface DeliveryRequest {
  url: string;
  /** NOTIFY_SECRET ("whsec_…"). */
  secret: string;
  /** The announcement's webhook-id (the same for every attempt). */
  id: string;
  /** The exact body to sign and send. */
  body: string;
  timeoutMs?: number;
  /** This attempt's time (epoch ms): its webhook-timestamp. */
  now?: number;
}

export interface DeliveryResult {
  /** The app's HTTP status, or null when none arrived in time. */
  status: number | null;
  /** delivered: any 2xx in time. gone: 410, stop at once. retry: anything else. */
  outcome: "delivered" | "retry" | "gone";
  /** For people: what happened, naming only the app's host (never a path, query or secret). */
  message: string;
}

const TIMED_OUT = Symbol("timed out");

/**
 * POSTs one signed attempt. A ConfigError from an unusable secret is the only thing thrown:
 * that is the operator's to fix, not a failed attempt.
 */
export async function deliverAnnouncement(req: DeliveryRequest): Promise<DeliveryResult> {
  const timeoutMs = req.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  const now = req.now ?? Date.now();
  const timestamp = Math.floor(now / 1000);
  const signature = await signAnnouncement(req.secret, req.id, timestamp, req.body);

  let host: string;
  try {
    host = new URL(req.url).host;
  } catch {
    return { status: null, outcome: "retry", message: "NOTIFY_URL is not a URL" };
  }

  // One deadline for the whole attempt: headers, then draining the answer. Racing a timer (not
  // only the abort signal) keeps the bound even where a fetch ignores its signal.
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(TIMED_OUT);
    }, timeoutMs);
  });
  const seconds = `${(timeoutMs / 1000).toLocaleString("en-US")} s`;

  try {
    let res: Response | typeof TIMED_OUT;
    try {
      res = await Promise.race([
        fetch(req.url, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "webhook-id": req.id,
            "webhook-timestamp": String(timestamp),
            "webhook-signature": signature,
          },
          body: req.body,
          // A redirect is a failed attempt: the signed body must go only where the operator said.
          redirect: "manual",
          signal: controller.signal,
        }),
        deadline,
      ]);
    } catch (err) {
      if (controller.signal.aborted) return { status: null, outcome: "retry", message: `${host} did not answer within ${seconds}` };
      return { status: null, outcome: "retry", message: `could not reach ${host}: ${errorText(err, undefined, { hideUrls: true }).slice(0, 160) || "network error"}` };
    }
    if (res === TIMED_OUT) return { status: null, outcome: "retry", message: `${host} did not answer within ${seconds}` };

    await drain(res, deadline);
    const status = res.status;
    if (status >= 200 && status < 300) return { status, outcome: "delivered", message: `${host} answered ${status}` };
    if (status === 410) return { status, outcome: "gone", message: `${host} answered 410 Gone: no more attempts` };
    if (status >= 300 && status < 400) {
      return { status, outcome: "retry", message: `${host} answered ${status} (a redirect, not followed)` };
    }
    return { status, outcome: "retry", message: `${host} answered ${status}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Reads at most DRAIN_BYTES of the answer before the deadline, then cancels the rest. */
async function drain(res: Response, deadline: Promise<typeof TIMED_OUT>): Promise<void> {
  if (!res.body) return;
  const reader = res.body.getReader();
  let read = 0;
  try {
    while (read < DRAIN_BYTES) {
      const chunk = await Promise.race([reader.read(), deadline]);
      if (chunk === TIMED_OUT || chunk.done) break;
      read += chunk.value.byteLength;
    }
  } catch {
    // A broken answer body changes nothing: the status already arrived.
  }
  // Not awaited: cancelling a stalled stream may itself wait on the app.
  reader.cancel().catch(() => {});
}

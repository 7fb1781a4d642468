// The announcement retry schedule, with explicit times.
import { describe, expect, it } from "vitest";
import { nextDeliveryAt, NOTIFY_GIVE_UP_AFTER_MS } from "../../../src/task/backoff";

const T0 = 1_700_000_000_000;
const S = 1000;
const MIN = 60 * S;
const H = 60 * MIN;

describe("announcement retry schedule", () => {
  it("retries 5 s, 30 s, 5 min, 30 min, 2 h, 5 h and 10 h after each failed attempt", () => {
    const gaps = [5 * S, 30 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H];
    let last = T0;
    gaps.forEach((gap, i) => {
      const next = nextDeliveryAt(i + 1, last, T0);
      expect(next).toBe(last + gap);
      last = next!;
    });
  });

  it("counts the gap from the failed attempt, not from the time it was due (a slow attempt pushes the next)", () => {
    // The 2nd attempt was due at T0+5 s but ran (and timed out) 15 s later.
    expect(nextDeliveryAt(2, T0 + 20 * S, T0)).toBe(T0 + 50 * S);
  });

  it("then every 10 h, and gives up once the next attempt would come more than 3 days after the first", () => {
    const times = [T0];
    for (let failed = 1; ; failed++) {
      const next = nextDeliveryAt(failed, times.at(-1)!, T0);
      if (next === null) break;
      times.push(next);
    }
    // 1 + 7 scheduled gaps, then 10 h steps from 17h35m35s: 27h…, 37h…, 47h…, 57h…, 67h35m35s.
    expect(times).toHaveLength(13);
    expect(times.at(-1)! - T0).toBe(67 * H + 35 * MIN + 35 * S);
    expect(times.slice(8).map((t, i) => t - times[7 + i]!)).toEqual([10 * H, 10 * H, 10 * H, 10 * H, 10 * H]);
    expect(nextDeliveryAt(13, times.at(-1)!, T0)).toBeNull();
  });

  it("an attempt exactly 3 days after the first is still made; one millisecond later is not", () => {
    expect(nextDeliveryAt(9, T0 + NOTIFY_GIVE_UP_AFTER_MS - 10 * H, T0)).toBe(T0 + 72 * H);
    expect(nextDeliveryAt(9, T0 + NOTIFY_GIVE_UP_AFTER_MS - 10 * H + 1, T0)).toBeNull();
  });

  it("the 3 days count from the first attempt of the round (a redelivery starts a new round)", () => {
    // Same gap, different first attempt: only the one whose round began long ago gives up.
    expect(nextDeliveryAt(12, T0 + 70 * H, T0)).toBeNull();
    expect(nextDeliveryAt(12, T0 + 70 * H, T0 + 70 * H)).toBe(T0 + 80 * H);
  });

  it("refuses a count below 1", () => {
    expect(() => nextDeliveryAt(0, T0, T0)).toThrow(RangeError);
    expect(() => nextDeliveryAt(1.5, T0, T0)).toThrow(RangeError);
  });
});

// Tasks for the pure modules' tests, made by the machine itself from a list of events.
import { apply, type MachineContext, type Task, type TaskEvent } from "../../../src/task/machine";

export const T0 = 1_700_000_000_000;
let ids = 0;
export const ctx: MachineContext = { overdueAfterMs: 300_000, maxAgeMs: 86_400_000, retentionMs: 1_123_200_000, notify: false, newMessageId: () => `msg_${++ids}` };
export const notifying: MachineContext = { ...ctx, notify: true };
export const wav = { key: "wav/a.wav", size: 10, sha256: "ab".repeat(32), contentType: "audio/wav" };

/** The task after `events`, each at T0 + its index (ms), under `c`. */
export function taskAfter(events: TaskEvent[], c: MachineContext = ctx): Task {
  return events.reduce<Task | null>((t, e, i) => apply(t, "a", e, T0 + i, c), null)!;
}

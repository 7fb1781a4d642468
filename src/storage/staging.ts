// Content that a callback (or a record-info answer) carries itself — MIDI notes, lyrics — is kept
// under the task's own prefix in R2 before the task records it, never in a state row (README,
// "What it keeps"). Its key is named by the content's sha256, so a replayed callback with other
// content cannot overwrite what the task refers to; the runner then writes the task's files from
// it, and the shard removes it once every file made from it is stored.

import { hex, utf8Bytes } from "../lib/encoding";
import type { ProviderSaid } from "../kinds/kind";
import type { StagedSaid } from "../task/callback";
import { stagedKey } from "./layout";

/** `said`, with each inline content put into R2 (once per distinct content) and named by its key. */
export async function stageSaid(bucket: R2Bucket, kind: string, taskId: string, said: ProviderSaid): Promise<StagedSaid> {
  if (said.type === "failed") return said;
  const keys = new Map<unknown, Promise<string>>();
  const stage = (content: unknown) => {
    let key = keys.get(content);
    if (!key) {
      key = (async () => {
        const bytes = utf8Bytes(JSON.stringify(content));
        const k = stagedKey(kind, taskId, hex(await crypto.subtle.digest("SHA-256", bytes)));
        await bucket.put(k, bytes, { httpMetadata: { contentType: "application/json" }, customMetadata: { taskId } });
        return k;
      })();
      keys.set(content, key);
    }
    return key;
  };
  const files = await Promise.all(
    said.files.map(async (f) => {
      if ("url" in f.source) return { ...f, source: f.source };
      const { inline, convert } = f.source;
      return { ...f, source: { staged: await stage(inline), ...(convert ? { convert } : {}) } };
    }),
  );
  return { type: "files", stage: said.stage, files };
}

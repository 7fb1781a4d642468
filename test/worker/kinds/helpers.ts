// Reading what a kind module made of a provider's body: the files it names, briefly.
import { expect } from "vitest";
import type { CallbackParse, FileOffer, ProviderSaid, RecordSaid } from "../../../src/kinds/kind";

/** The parse of a callback that must have been accepted. */
export function accepted(parse: CallbackParse): { taskId: string; said: ProviderSaid } {
  if (!parse.ok) throw new Error(`refused: ${parse.message}`);
  return { taskId: parse.taskId, said: parse.said };
}

/** The files an accepted callback (or a record) names, with their stage. */
export function offered(said: ProviderSaid): { stage: string; files: FileOffer[] } {
  if (said.type !== "files") throw new Error(`not files: ${JSON.stringify(said)}`);
  return { stage: said.stage, files: said.files };
}

/** name → URL of each file. */
export function urls(files: FileOffer[]): Record<string, string> {
  return Object.fromEntries(files.map((f) => [f.name, "url" in f.source ? f.source.url : "(inline)"]));
}

/** The message of a refused callback. */
export function refused(parse: CallbackParse): string {
  expect(parse.ok).toBe(false);
  return parse.ok ? "" : parse.message;
}

/** The files a record names ("said" with files), with its flag. */
export function recordFiles(r: RecordSaid): { flag: string; stage: string; files: FileOffer[] } {
  if (r.status !== "said" || r.said.type !== "files") throw new Error(`no files: ${JSON.stringify(r)}`);
  return { flag: r.flag, stage: r.said.stage, files: r.said.files };
}

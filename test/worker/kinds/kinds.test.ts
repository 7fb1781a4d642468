// Every kind together (src/kinds/index.ts, src/kinds/kind.ts): one module per name, its own
// record-info path, and R2 keys that never collide across kinds.
import { describe, expect, it } from "vitest";
import { KINDS, kindOf } from "../../../src/kinds";
import { fileKey, INLINE_CALLBACK_BYTES, KIND_NAMES, URL_CALLBACK_BYTES } from "../../../src/kinds/kind";

describe("kinds", () => {
  it("each name has its module, its own record-info path, and its body limit", () => {
    expect(Object.keys(KINDS).sort()).toEqual([...KIND_NAMES].sort());
    for (const name of KIND_NAMES) expect(kindOf(name).name).toBe(name);
    const paths = KIND_NAMES.map((n) => KINDS[n].recordInfoPath);
    expect(new Set(paths).size).toBe(paths.length);
    expect(Object.fromEntries(KIND_NAMES.map((n) => [n, KINDS[n].maxCallbackBytes]))).toEqual({
      wav: URL_CALLBACK_BYTES,
      music: URL_CALLBACK_BYTES,
      stems: URL_CALLBACK_BYTES,
      video: URL_CALLBACK_BYTES,
      cover: URL_CALLBACK_BYTES,
      midi: INLINE_CALLBACK_BYTES,
      lyrics: INLINE_CALLBACK_BYTES,
    });
  });

  it("keys: wav/<id>.wav for a WAV, <kind>/<id>/<name> for every other file", () => {
    expect(Object.fromEntries(KIND_NAMES.map((n) => [n, KINDS[n].key("t1", "f.x")]))).toEqual({
      wav: "wav/t1.wav",
      music: "music/t1/f.x",
      stems: "stems/t1/f.x",
      video: "video/t1/f.x",
      cover: "cover/t1/f.x",
      midi: "midi/t1/f.x",
      lyrics: "lyrics/t1/f.x",
    });
    expect(fileKey("music", "t1", "a.mp3")).toBe("music/t1/a.mp3");
  });
});

// The `lyrics` kind (src/kinds/lyrics.ts): lyrics carried inside the callback (notes: "6. lyrics").
import { describe, expect, it } from "vitest";
import { INLINE_CALLBACK_BYTES } from "../../../src/kinds/kind";
import { lyrics } from "../../../src/kinds/lyrics";
import { accepted, offered, recordFiles, refused } from "./helpers";

const S_ID = "11dc0a1b8b0f";
const K_ID = "3b66882fde0a5d398bd269cab6d9542b";

/** lyrics.json with these items as its content. */
const lyricsFile = (items: unknown[]) => ({ name: "lyrics.json", role: "lyrics", track: null, contentType: "application/json", source: { inline: items } });

describe("lyrics callbacks", () => {
  it("S: data.taskId and items with errorMessage, kept as they are", () => {
    const items = [
      { text: "[Verse]\nWalking through the city's darkest night\n…", title: "Iron Man", status: "complete", errorMessage: "" },
      { text: "[Verse]\n…", title: "Iron Man II", status: "complete", errorMessage: "" },
    ];
    const { taskId, said } = accepted(lyrics.parseCallback({ code: 200, msg: "All generated successfully.", data: { callbackType: "complete", taskId: S_ID, data: items } }));
    expect(taskId).toBe(S_ID);
    expect(offered(said)).toEqual({ stage: "complete", files: [lyricsFile(items)] });
  });

  it("K: data.task_id and error_message, kept as errorMessage", () => {
    const body = {
      code: 200,
      msg: "All generated successfully.",
      data: { callbackType: "complete", task_id: K_ID, data: [{ error_message: "", status: "complete", text: "[Verse]\nMoonlight spreads across the windowsill\n…", title: "Starry Night Dreams" }] },
    };
    const { taskId, said } = accepted(lyrics.parseCallback(body));
    expect(taskId).toBe(K_ID);
    expect(offered(said).files).toEqual([
      lyricsFile([{ text: "[Verse]\nMoonlight spreads across the windowsill\n…", title: "Starry Night Dreams", status: "complete", errorMessage: "" }]),
    ]);
    // A failed item keeps its reason under the one spelling.
    const failedItem = accepted(lyrics.parseCallback({ ...body, data: { ...body.data, data: [{ status: "failed", error_message: "flagged" }] } }));
    expect(offered(failedItem.said).files[0]!.source).toEqual({ inline: [{ status: "failed", errorMessage: "flagged" }] });
  });

  it("failures: S's callbackType error; K's callbackType complete with code 400; error under code 200", () => {
    expect(accepted(lyrics.parseCallback({ code: 400, msg: "Lyrics generation failed", data: { callbackType: "error", taskId: S_ID, data: null } }))).toEqual({
      taskId: S_ID,
      said: { type: "failed", error: { code: "400", message: "Lyrics generation failed" } },
    });
    expect(accepted(lyrics.parseCallback({ code: 400, msg: "Song Description flagged for moderation", data: { callbackType: "complete", task_id: K_ID, data: null } }))).toEqual({
      taskId: K_ID,
      said: { type: "failed", error: { code: "400", message: "Song Description flagged for moderation" } },
    });
    expect(accepted(lyrics.parseCallback({ code: 200, msg: "odd", data: { callbackType: "error", taskId: S_ID, data: [{ text: "x" }] } })).said).toEqual({
      type: "failed",
      error: { code: "error", message: "odd" },
    });
    // A success without any data is no success.
    expect(accepted(lyrics.parseCallback({ code: 200, msg: "odd", data: { callbackType: "complete", taskId: S_ID, data: null } })).said).toMatchObject({ type: "failed" });
  });

  it("refuses what is not a usable callback, saying why", () => {
    expect(refused(lyrics.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", data: [] } }))).toBe("data.taskId: is missing");
    expect(refused(lyrics.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", taskId: "../x", data: [] } }))).toBe("data.taskId: must be 1-128 letters, digits, '_' or '-'");
    expect(refused(lyrics.parseCallback({ code: "400", msg: "ok", data: { callbackType: "complete", taskId: S_ID, data: null } }))).toBe("code: must be a number");
    expect(refused(lyrics.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", taskId: S_ID, data: [{ text: 42 }] } }))).toMatch(/^data\.data\.0\.text: /);
  });

  it("is allowed 1 MiB; polls /api/v1/lyrics/record-info; keeps lyrics/<task>/lyrics.json", () => {
    expect(lyrics.maxCallbackBytes).toBe(INLINE_CALLBACK_BYTES);
    expect(lyrics.recordInfoPath).toBe("/api/v1/lyrics/record-info");
    expect(lyrics.key(S_ID, "lyrics.json")).toBe(`lyrics/${S_ID}/lyrics.json`);
  });
});

describe("lyrics record-info", () => {
  const items = [{ text: "[Verse]\n…", title: "钢铁侠", status: "complete", errorMessage: "" }];
  const record = (status: string, data: unknown[] | null, extra: Record<string, unknown> = {}) => ({
    taskId: S_ID,
    param: '{"prompt":"A song about peaceful night in the city"}',
    response: { taskId: S_ID, data },
    status,
    type: "LYRICS",
    errorCode: null,
    errorMessage: null,
    ...extra,
  });

  it("SUCCESS and CALLBACK_EXCEPTION with items name lyrics.json", () => {
    expect(recordFiles(lyrics.readRecord(record("SUCCESS", items), S_ID))).toEqual({ flag: "SUCCESS", stage: "complete", files: [lyricsFile(items)] });
    expect(recordFiles(lyrics.readRecord(record("CALLBACK_EXCEPTION", items), S_ID)).files).toHaveLength(1);
  });

  it("pending; failures with errorCode and errorMessage, else the flag; nothing usable", () => {
    expect(lyrics.readRecord(record("PENDING", null), S_ID)).toEqual({ status: "pending", flag: "PENDING" });
    expect(lyrics.readRecord(record("SENSITIVE_WORD_ERROR", null, { errorCode: 400, errorMessage: "flagged" }), S_ID)).toEqual({
      status: "said",
      said: { type: "failed", error: { code: "400", message: "flagged" } },
      flag: "SENSITIVE_WORD_ERROR",
    });
    expect(lyrics.readRecord(record("GENERATE_LYRICS_FAILED", []), S_ID)).toMatchObject({ said: { type: "failed", error: { code: "GENERATE_LYRICS_FAILED" } } });
    expect(lyrics.readRecord(record("SUCCESS", []), S_ID)).toMatchObject({ status: "unknown", message: "the provider reports SUCCESS without any file" });
    expect(lyrics.readRecord(null, S_ID)).toMatchObject({ status: "unknown" });
  });
});

// The `music` kind (src/kinds/music.ts): callbacks in stages and record-info's sunoData. The bodies
// are the provider's documented examples (notes: "1. music"), with the ids' redacted `****`
// filled in with hex digits: a real id has none, and `*` is not allowed in a task id.
import { describe, expect, it } from "vitest";
import { music } from "../../../src/kinds/music";
import { accepted, offered, recordFiles, refused, urls } from "./helpers";

const ID = "2fac0a1b9f72";
const track = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  audio_url: `https://example.cn/${id}.mp3`,
  source_audio_url: `https://example.cn/src-${id}.mp3`,
  stream_audio_url: `https://example.cn/stream-${id}`,
  source_stream_audio_url: `https://example.cn/src-stream-${id}`,
  image_url: `https://example.cn/${id}.jpeg`,
  source_image_url: `https://example.cn/src-${id}.jpeg`,
  prompt: "[Verse] Night city lights shining bright",
  model_name: "chirp-v3-5",
  title: "Iron Man",
  tags: "electrifying, rock",
  createTime: "2025-01-01 00:00:00",
  duration: 198.44,
  ...extra,
});

describe("music callbacks", () => {
  it("complete names every track's MP3 and cover art (not the stream preview, not the source_* copies)", () => {
    const body = { code: 200, msg: "All generated successfully.", data: { callbackType: "complete", task_id: ID, data: [track("8551aa00662c"), track("bd15bb001873")] } };
    const { taskId, said } = accepted(music.parseCallback(body));
    expect(taskId).toBe(ID);
    const { stage, files } = offered(said);
    expect(stage).toBe("complete");
    expect(urls(files)).toEqual({
      "8551aa00662c.mp3": "https://example.cn/8551aa00662c.mp3",
      "8551aa00662c.jpeg": "https://example.cn/8551aa00662c.jpeg",
      "bd15bb001873.mp3": "https://example.cn/bd15bb001873.mp3",
      "bd15bb001873.jpeg": "https://example.cn/bd15bb001873.jpeg",
    });
    expect(files[0]).toEqual({ name: "8551aa00662c.mp3", role: "audio", track: "8551aa00662c", contentType: "audio/mpeg", source: { url: "https://example.cn/8551aa00662c.mp3" } });
    expect(files[1]).toMatchObject({ role: "image", track: "8551aa00662c", contentType: "image/jpeg" });
  });

  it("first names the first track; text names none; a body without callbackType is complete", () => {
    const first = { code: 200, msg: "First track generated successfully.", data: { callbackType: "first", task_id: ID, data: [{ id: "e231cc00aa11", audio_url: "https://example.cn/a.mp3", image_url: "https://example.cn/a.jpeg" }] } };
    expect(offered(accepted(music.parseCallback(first)).said)).toMatchObject({ stage: "first", files: [{ name: "e231cc00aa11.mp3" }, { name: "e231cc00aa11.jpeg" }] });
    const text = { code: 200, msg: "Text generation completed.", data: { callbackType: "text", task_id: ID, data: [] } };
    expect(accepted(music.parseCallback(text))).toEqual({ taskId: ID, said: { type: "files", stage: "text", files: [] } });
    // A text stage with data null still names no file.
    expect(offered(accepted(music.parseCallback({ ...text, data: { callbackType: "text", task_id: ID, data: null } })).said).files).toEqual([]);
    const plain = { code: 200, msg: "ok", data: { task_id: ID, data: [track("8551aa00662c")] } };
    expect(offered(accepted(music.parseCallback(plain)).said).stage).toBe("complete");
  });

  it("a track's missing URL (\"\" or null) is no file; the rest of the track still is", () => {
    const body = { code: 200, msg: "ok", data: { callbackType: "complete", taskId: ID, data: [track("t1", { image_url: "" }), track("t2", { audio_url: null })] } };
    expect(Object.keys(urls(offered(accepted(music.parseCallback(body)).said).files))).toEqual(["t1.mp3", "t2.jpeg"]);
  });

  it("every documented failure: callbackType error, a code other than 200, data null or [] or an error string", () => {
    const failure = (code: number, msg: string, data: Record<string, unknown>) => accepted(music.parseCallback({ code, msg, data: { task_id: ID, ...data } })).said;
    expect(failure(501, "Audio generation failed", { callbackType: "error", data: null })).toEqual({ type: "failed", error: { code: "501", message: "Audio generation failed" } });
    expect(failure(501, "Audio generation failed.", { callbackType: "error", data: [] })).toEqual({ type: "failed", error: { code: "501", message: "Audio generation failed." } });
    // replace-section: data.error says more than msg.
    expect(failure(501, "Audio generation failed.", { callbackType: "error", error: "Generation failed due to technical issues" })).toEqual({
      type: "failed",
      error: { code: "501", message: "Generation failed due to technical issues" },
    });
    expect(failure(400, "Instrumental generation failed", { callbackType: "error", data: null })).toEqual({ type: "failed", error: { code: "400", message: "Instrumental generation failed" } });
    // An error stage under code 200 is a failure too; a code other than 200 is one whatever the stage.
    expect(failure(200, "oops", { callbackType: "error", data: null })).toEqual({ type: "failed", error: { code: "error", message: "oops" } });
    expect(failure(531, "refunded", { callbackType: "complete", data: [track("t1")] })).toEqual({ type: "failed", error: { code: "531", message: "refunded" } });
  });

  it("refuses what is not a usable callback, saying why", () => {
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", data: [track("t1")] } }))).toBe("data.task_id: is missing");
    // The id sits inside data for music; a top-level one is not where music puts it.
    expect(refused(music.parseCallback({ code: 200, task_id: ID, msg: "ok", data: { callbackType: "complete", data: [track("t1")] } }))).toBe("data.task_id: is missing");
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: ID, data: [track("../x")] } }))).toBe(
      "data.data.0.id: must be 1-128 letters, digits, '_' or '-'",
    );
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: ID, data: [track("t1", { audio_url: "file:///etc/passwd" })] } }))).toBe(
      "data.data.0.audio_url: must be an http(s) URL",
    );
    expect(refused(music.parseCallback({ code: "200", msg: "ok", data: { callbackType: "complete", task_id: ID, data: [track("t1")] } }))).toBe("code: must be a number");
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "partial", task_id: ID, data: [] } }))).toBe('data.callbackType: "partial" is not text, first, complete or error');
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "first", task_id: ID, data: [track("t1", { audio_url: "", image_url: null })] } }))).toBe(
      "data.data: a first callback names no track with a file",
    );
    expect(refused(music.parseCallback({ code: 200, msg: "ok", data: { callbackType: "complete", task_id: ID, data: [] } }))).toBe("data.data: a complete callback names no track with a file");
  });

  it("polls /api/v1/generate/record-info; keeps files under music/<task>/", () => {
    expect(music.recordInfoPath).toBe("/api/v1/generate/record-info");
    expect(music.maxCallbackBytes).toBe(64 * 1024);
    expect(music.key(ID, "8551aa00662c.mp3")).toBe(`music/${ID}/8551aa00662c.mp3`);
  });
});

describe("music record-info", () => {
  const sunoTrack = (id: string, extra: Record<string, unknown> = {}) => ({
    id,
    audioUrl: `https://example.cn/${id}.mp3`,
    streamAudioUrl: `https://example.cn/stream-${id}`,
    imageUrl: `https://example.cn/${id}.jpeg`,
    prompt: "[Verse] …",
    modelName: "chirp-v3-5",
    title: "…",
    tags: "electrifying, rock",
    createTime: "2025-01-01 00:00:00",
    duration: 198.44,
    ...extra,
  });
  const record = (status: string, sunoData: unknown[] | null, extra: Record<string, unknown> = {}) => ({
    taskId: "5c79a0b1be8e",
    parentMusicId: "",
    param: '{"prompt":"A calm piano track","style":"Classical","title":"Peaceful Piano","customMode":true,"instrumental":true,"model":"V4_5ALL"}',
    response: { taskId: "5c79a0b1be8e", sunoData },
    status,
    type: "GENERATE",
    errorCode: null,
    errorMessage: null,
    ...extra,
  });

  it("SUCCESS names every track's files as complete; FIRST_SUCCESS the first's as first", () => {
    const done = recordFiles(music.readRecord(record("SUCCESS", [sunoTrack("8551aa00662c"), sunoTrack("bd15bb001873")]), "5c79a0b1be8e"));
    expect(done.stage).toBe("complete");
    expect(Object.keys(urls(done.files))).toEqual(["8551aa00662c.mp3", "8551aa00662c.jpeg", "bd15bb001873.mp3", "bd15bb001873.jpeg"]);
    expect(done.files[0]).toEqual({ name: "8551aa00662c.mp3", role: "audio", track: "8551aa00662c", contentType: "audio/mpeg", source: { url: "https://example.cn/8551aa00662c.mp3" } });
    const first = recordFiles(music.readRecord(record("FIRST_SUCCESS", [sunoTrack("8551aa00662c"), sunoTrack("bd15bb001873", { audioUrl: "", imageUrl: "" })]), "x"));
    expect(first).toMatchObject({ flag: "FIRST_SUCCESS", stage: "first" });
    expect(first.files.map((f) => f.name)).toEqual(["8551aa00662c.mp3", "8551aa00662c.jpeg"]);
  });

  it("CALLBACK_EXCEPTION with tracks is used; without any it is nothing usable", () => {
    expect(recordFiles(music.readRecord(record("CALLBACK_EXCEPTION", [sunoTrack("t1")]), "x"))).toMatchObject({ flag: "CALLBACK_EXCEPTION", stage: "complete" });
    expect(music.readRecord(record("CALLBACK_EXCEPTION", []), "x")).toMatchObject({ status: "unknown" });
    expect(music.readRecord(record("SUCCESS", []), "x")).toMatchObject({ status: "unknown", message: "the provider reports SUCCESS without any file" });
  });

  it("still working: PENDING, TEXT_SUCCESS, and FIRST_SUCCESS before any track has a URL", () => {
    expect(music.readRecord(record("PENDING", null), "x")).toEqual({ status: "pending", flag: "PENDING" });
    expect(music.readRecord(record("TEXT_SUCCESS", []), "x")).toEqual({ status: "pending", flag: "TEXT_SUCCESS" });
    expect(music.readRecord(record("FIRST_SUCCESS", [sunoTrack("t1", { audioUrl: null, imageUrl: null })]), "x")).toEqual({ status: "pending", flag: "FIRST_SUCCESS" });
  });

  it("a failure flag without tracks fails with errorCode and errorMessage, else the flag", () => {
    const failed = music.readRecord(record("GENERATE_AUDIO_FAILED", [], { errorCode: 501, errorMessage: "生成失败,请重试或联系客服" }), "x");
    expect(failed).toEqual({ status: "said", said: { type: "failed", error: { code: "501", message: "生成失败,请重试或联系客服" } }, flag: "GENERATE_AUDIO_FAILED" });
    expect(music.readRecord(record("SENSITIVE_WORD_ERROR", null), "x")).toMatchObject({ said: { type: "failed", error: { code: "SENSITIVE_WORD_ERROR", message: "SENSITIVE_WORD_ERROR" } } });
    expect(music.readRecord(record("CREATE_TASK_FAILED", null, { errorCode: "400" }), "x")).toMatchObject({ said: { error: { code: "400", message: "CREATE_TASK_FAILED" } } });
  });

  it("data null, an unsafe track id, or a status not documented: nothing usable", () => {
    expect(music.readRecord(null, "x")).toEqual({ status: "unknown", message: "the provider has no record of this task (data: null)" });
    expect(music.readRecord(record("SUCCESS", [sunoTrack("../x")]), "x")).toEqual({ status: "unknown", message: "the provider's record for this task is not in the documented form" });
    expect(music.readRecord(record("SOMETHING_NEW", []), "x")).toMatchObject({ status: "unknown", message: "the provider reports SOMETHING_NEW without any file" });
  });
});

// The `stems` kind (src/kinds/stems.ts): vocal separation and stem splitting. The bodies are the
// provider's documented examples (notes: "2. stems"), with elided URLs written out.
import { describe, expect, it } from "vitest";
import { stems } from "../../../src/kinds/stems";
import { accepted, offered, recordFiles, refused, urls } from "./helpers";

const S_ID = "3e63b4cc88d52611159371f6af5571e7";
const K_ID = "e649edb7abfd759285bd41a47a634b10";
const cdn = (name: string) => `https://file.aiquickdraw.com/s/e649_${name}.mp3`;

describe("stems callbacks", () => {
  it("separate_vocal (vocal_removal_info): one MP3 per non-empty URL; origin \"\" is none", () => {
    const body = {
      code: 200,
      msg: "vocal Removal generated successfully.",
      data: {
        task_id: S_ID,
        vocal_removal_info: { instrumental_url: "https://file.aiquickdraw.com/s/d92a_Instrumental.mp3", origin_url: "", vocal_url: "https://file.aiquickdraw.com/s/3d70_Vocals.mp3" },
      },
    };
    const { taskId, said } = accepted(stems.parseCallback(body));
    expect(taskId).toBe(S_ID);
    const { stage, files } = offered(said);
    expect(stage).toBe("complete");
    expect(urls(files)).toEqual({ "instrumental.mp3": "https://file.aiquickdraw.com/s/d92a_Instrumental.mp3", "vocal.mp3": "https://file.aiquickdraw.com/s/3d70_Vocals.mp3" });
    expect(files[0]).toEqual({ name: "instrumental.mp3", role: "stem", track: null, contentType: "audio/mpeg", source: { url: "https://file.aiquickdraw.com/s/d92a_Instrumental.mp3" } });
  });

  it("split_stem (vocal_separation_info): every stem, backing_vocals included", () => {
    const stemsNamed = ["backing_vocals", "bass", "brass", "drums", "fx", "guitar", "keyboard", "percussion", "strings", "synth", "vocal", "woodwinds"];
    const info = { origin_url: "", ...Object.fromEntries(stemsNamed.map((s) => [`${s}_url`, cdn(s)])) };
    const body = { code: 200, msg: "vocal separation generated successfully.", data: { task_id: K_ID, vocal_separation_info: info } };
    const { files } = offered(accepted(stems.parseCallback(body)).said);
    expect(files.map((f) => f.name)).toEqual(stemsNamed.map((s) => `${s}.mp3`));
    expect(urls(files)["backing_vocals.mp3"]).toBe(cdn("backing_vocals"));
  });

  it("the older single shape (piano, null for none); keys that are not URLs are left alone; taskId is read too", () => {
    const body = {
      code: 200,
      msg: "vocal Removal generated successfully.",
      data: {
        taskId: K_ID,
        vocal_removal_info: { instrumental_url: cdn("inst"), origin_url: null, vocal_url: cdn("voc"), drums_url: cdn("drums"), bass_url: null, guitar_url: "", piano_url: cdn("piano"), id: 42, note: "x" },
      },
    };
    const { taskId, said } = accepted(stems.parseCallback(body));
    expect(taskId).toBe(K_ID);
    expect(offered(said).files.map((f) => f.name)).toEqual(["instrumental.mp3", "vocal.mp3", "drums.mp3", "piano.mp3"]);
  });

  it("failures: S with vocal_removal_info null, K with vocal_separation_info null", () => {
    expect(accepted(stems.parseCallback({ code: 400, msg: "Vocal separation failed", data: { task_id: "5e72d367bdfbe44785e28d72cb1697c7", vocal_removal_info: null } }))).toEqual({
      taskId: "5e72d367bdfbe44785e28d72cb1697c7",
      said: { type: "failed", error: { code: "400", message: "Vocal separation failed" } },
    });
    expect(accepted(stems.parseCallback({ code: 500, msg: "Instrument separation failed", data: { task_id: K_ID, vocal_separation_info: null } })).said).toEqual({
      type: "failed",
      error: { code: "500", message: "Instrument separation failed" },
    });
  });

  it("refuses what is not a usable callback, saying why", () => {
    const info = { vocal_url: cdn("v") };
    expect(refused(stems.parseCallback({ code: 200, msg: "ok", data: { vocal_removal_info: info } }))).toBe("data.task_id: is missing");
    expect(refused(stems.parseCallback({ code: 200, msg: "ok", data: { task_id: "../x", vocal_removal_info: info } }))).toBe("data.task_id: must be 1-128 letters, digits, '_' or '-'");
    expect(refused(stems.parseCallback({ code: 200, msg: "ok", data: { task_id: S_ID, vocal_removal_info: { vocal_url: "javascript:alert(1)" } } }))).toBe(
      "data.vocal_removal_info.vocal_url: must be an http(s) URL",
    );
    expect(refused(stems.parseCallback({ code: "200", msg: "ok", data: { task_id: S_ID, vocal_removal_info: info } }))).toBe("code: must be a number");
    expect(refused(stems.parseCallback({ code: 200, msg: "ok", data: { task_id: S_ID, vocal_removal_info: null } }))).toBe("data.vocal_removal_info is missing from a success callback");
    expect(refused(stems.parseCallback({ code: 200, msg: "ok", data: { task_id: S_ID, vocal_separation_info: { origin_url: "", vocal_url: null } } }))).toBe("data.vocal_removal_info names no stem");
  });

  it("polls /api/v1/vocal-removal/record-info; keeps files under stems/<task>/", () => {
    expect(stems.recordInfoPath).toBe("/api/v1/vocal-removal/record-info");
    expect(stems.key(S_ID, "drums.mp3")).toBe(`stems/${S_ID}/drums.mp3`);
  });
});

describe("stems record-info", () => {
  const nulls = Object.fromEntries(
    ["backingVocals", "drums", "bass", "guitar", "piano", "keyboard", "percussion", "strings", "synth", "fx", "brass", "woodwinds"].map((s) => [`${s}Url`, null]),
  );
  const record = (successFlag: unknown, response: Record<string, unknown> | null, extra: Record<string, unknown> = {}) => ({
    taskId: S_ID,
    musicId: "376c687e-0000-4000-8000-000000000000",
    callbackUrl: "https://example.test/api/v1/vocal-removal/test",
    musicIndex: 0,
    completeTime: 1753782937000,
    response,
    successFlag,
    createTime: 1753782854000,
    errorCode: null,
    errorMessage: null,
    ...extra,
  });
  const separated = {
    id: null,
    originUrl: null,
    originData: [{ duration: 245.6, audio_url: "https://example001.mp3", stem_type_group_name: "Vocals", id: "3d7021c9" }],
    instrumentalUrl: "https://file.aiquickdraw.com/s/d92a_Instrumental.mp3",
    vocalUrl: "https://file.aiquickdraw.com/s/3d70_Vocals.mp3",
    ...nulls,
  };

  it("SUCCESS: the camelCase keys' URLs, as the same names a callback gives", () => {
    const r = recordFiles(stems.readRecord(record("SUCCESS", separated), S_ID));
    expect(r.flag).toBe("SUCCESS");
    expect(urls(r.files)).toEqual({ "instrumental.mp3": "https://file.aiquickdraw.com/s/d92a_Instrumental.mp3", "vocal.mp3": "https://file.aiquickdraw.com/s/3d70_Vocals.mp3" });
    const split = recordFiles(stems.readRecord(record("SUCCESS", { ...separated, instrumentalUrl: null, backingVocalsUrl: cdn("bv"), drumsUrl: cdn("d") }), S_ID));
    expect(split.files.map((f) => f.name)).toEqual(["vocal.mp3", "backing_vocals.mp3", "drums.mp3"]);
  });

  it("CALLBACK_EXCEPTION with URLs is used; SUCCESS without any is nothing usable", () => {
    expect(recordFiles(stems.readRecord(record("CALLBACK_EXCEPTION", separated), S_ID)).files).toHaveLength(2);
    expect(stems.readRecord(record("SUCCESS", { ...separated, instrumentalUrl: null, vocalUrl: null }), S_ID)).toMatchObject({ status: "unknown" });
  });

  it("pending; failures with their errorCode and errorMessage", () => {
    expect(stems.readRecord(record("PENDING", null), S_ID)).toEqual({ status: "pending", flag: "PENDING" });
    expect(stems.readRecord(record("GENERATE_AUDIO_FAILED", null, { errorCode: 500, errorMessage: "separation failed" }), S_ID)).toEqual({
      status: "said",
      said: { type: "failed", error: { code: "500", message: "separation failed" } },
      flag: "GENERATE_AUDIO_FAILED",
    });
    expect(stems.readRecord(record("CREATE_TASK_FAILED", null), S_ID)).toMatchObject({ said: { type: "failed", error: { code: "CREATE_TASK_FAILED" } } });
  });

  it("data null, a URL that is not one, a numeric flag: nothing usable", () => {
    expect(stems.readRecord(null, S_ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("data: null") });
    expect(stems.readRecord(record("SUCCESS", { ...separated, vocalUrl: "ftp://x/v.mp3" }), S_ID)).toEqual({ status: "unknown", message: "the provider's record has an unusable vocalUrl" });
    expect(stems.readRecord(record(1, separated), S_ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("not in the documented form") });
  });
});

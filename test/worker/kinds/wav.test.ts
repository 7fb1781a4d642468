// The `wav` kind (src/kinds/wav.ts): "Convert to WAV" callbacks and record-info answers.
import { describe, expect, it } from "vitest";
import { wav } from "../../../src/kinds/wav";
import { accepted, offered, recordFiles, refused } from "./helpers";

const ID = "988e8d8a2b3c4f5e6a7b8c9d0e1fc8d3";
const URL = "https://tempfile.aiquickdraw.com/r/988e8d8a.wav";

describe("wav callbacks", () => {
  it("names the one WAV, from audioWavUrl or audio_wav_url, with task_id or taskId", () => {
    for (const data of [
      { task_id: ID, audioWavUrl: URL },
      { task_id: ID, audio_wav_url: URL },
      { taskId: ID, audioWavUrl: URL },
    ]) {
      const { taskId, said } = accepted(wav.parseCallback({ code: 200, msg: "success", data }));
      expect(taskId).toBe(ID);
      expect(offered(said)).toEqual({
        stage: "complete",
        files: [{ name: `${ID}.wav`, role: "wav", track: null, contentType: "audio/wav", source: { url: URL } }],
      });
    }
  });

  it("a code other than 200 is the provider's failure, in its words", () => {
    expect(accepted(wav.parseCallback({ code: 451, msg: "download failed", data: { task_id: ID, audioWavUrl: null } })).said).toEqual({
      type: "failed",
      error: { code: "451", message: "download failed" },
    });
    expect(accepted(wav.parseCallback({ code: 500, msg: null, data: { task_id: ID } })).said).toEqual({ type: "failed", error: { code: "500", message: "provider code 500" } });
  });

  it("refuses what is not a usable callback, saying why", () => {
    expect(refused(wav.parseCallback({ code: 200, msg: "ok", data: { audioWavUrl: URL } }))).toBe("data.task_id: is missing");
    expect(refused(wav.parseCallback({ code: 200, msg: "ok", data: { task_id: "../x", audioWavUrl: URL } }))).toBe("data.task_id: must be 1-128 letters, digits, '_' or '-'");
    expect(refused(wav.parseCallback({ code: 200, msg: "ok", data: { task_id: ID, audioWavUrl: "ftp://x/a.wav" } }))).toBe("data.audioWavUrl: must be an http(s) URL");
    expect(refused(wav.parseCallback({ code: "200", msg: "ok", data: { task_id: ID, audioWavUrl: URL } }))).toBe("code: must be a number");
    expect(refused(wav.parseCallback({ code: 200, msg: "ok", data: { task_id: ID, audioWavUrl: "" } }))).toBe("data.audioWavUrl is missing from a success callback");
    expect(refused(wav.parseCallback({ code: 200, msg: "ok", data: null }))).toBe("data: must be an object with task_id");
    expect(refused(wav.parseCallback([1]))).toBe("the body must be a JSON object");
  });

  it("is small: a WAV callback carries only URLs", () => {
    expect(wav.maxCallbackBytes).toBe(64 * 1024);
    expect(wav.recordInfoPath).toBe("/api/v1/wav/record-info");
  });
});

describe("wav record-info", () => {
  const record = (over: Record<string, unknown>) => ({ taskId: ID, musicId: "m", callbackUrl: "https://x/cb", response: null, successFlag: "PENDING", errorCode: null, errorMessage: null, ...over });

  it("any record with a URL names the WAV, whatever its flag", () => {
    for (const [flag, response] of [
      ["SUCCESS", { audioWavUrl: URL }],
      ["CALLBACK_EXCEPTION", { audio_wav_url: URL }],
    ] as const) {
      const r = recordFiles(wav.readRecord(record({ successFlag: flag, response }), ID));
      expect(r).toMatchObject({ flag, stage: "complete", files: [{ name: `${ID}.wav`, source: { url: URL } }] });
    }
  });

  it("pending; a failure with its errorCode and errorMessage, else the flag; nothing usable", () => {
    expect(wav.readRecord(record({}), ID)).toEqual({ status: "pending", flag: "PENDING" });
    expect(wav.readRecord(record({ successFlag: "GENERATE_WAV_FAILED", errorCode: 500, errorMessage: "conversion failed" }), ID)).toEqual({
      status: "said",
      said: { type: "failed", error: { code: "500", message: "conversion failed" } },
      flag: "GENERATE_WAV_FAILED",
    });
    expect(wav.readRecord(record({ successFlag: "CREATE_TASK_FAILED" }), ID)).toMatchObject({ said: { type: "failed", error: { code: "CREATE_TASK_FAILED", message: "CREATE_TASK_FAILED" } } });
    expect(wav.readRecord(record({ successFlag: "SUCCESS", response: { audioWavUrl: "" } }), ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("SUCCESS without any file") });
    expect(wav.readRecord(null, ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("data: null") });
    expect(wav.readRecord(record({ successFlag: 1 }), ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("not in the documented form") });
  });

  it("keeps its WAV where it always was", () => {
    expect(wav.key(ID, `${ID}.wav`)).toBe(`wav/${ID}.wav`);
  });
});

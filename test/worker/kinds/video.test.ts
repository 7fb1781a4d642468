// The `video` kind (src/kinds/video.ts): a music video's MP4 (notes: "3. video").
import { describe, expect, it } from "vitest";
import { video } from "../../../src/kinds/video";
import { accepted, offered, recordFiles, refused } from "./helpers";

const ID = "taskId_774b9aa0422f";
const MP4 = "https://example.com/videos/video_847715e66259.mp4";

describe("video callbacks", () => {
  it("names video.mp4 from video_url", () => {
    const { taskId, said } = accepted(video.parseCallback({ code: 200, msg: "MP4 generated successfully.", data: { task_id: ID, video_url: MP4 } }));
    expect(taskId).toBe(ID);
    expect(offered(said)).toEqual({ stage: "complete", files: [{ name: "video.mp4", role: "video", track: null, contentType: "video/mp4", source: { url: MP4 } }] });
    expect(accepted(video.parseCallback({ code: 200, msg: "success", data: { taskId: ID, video_url: MP4 } })).taskId).toBe(ID);
  });

  it("failures: S 400 and K 500, with video_url null", () => {
    expect(accepted(video.parseCallback({ code: 400, msg: "Music video generation failed", data: { task_id: ID, video_url: null } })).said).toEqual({
      type: "failed",
      error: { code: "400", message: "Music video generation failed" },
    });
    expect(accepted(video.parseCallback({ code: 500, msg: "Internal Error - Please try again later", data: { task_id: "task_id_5bbe7721119d", video_url: null } }))).toEqual({
      taskId: "task_id_5bbe7721119d",
      said: { type: "failed", error: { code: "500", message: "Internal Error - Please try again later" } },
    });
  });

  it("refuses what is not a usable callback: K's example video_url is not a URL", () => {
    expect(refused(video.parseCallback({ code: 200, msg: "success", data: { task_id: "task_id_5bbe7721119d", video_url: "video_url_847715e66259" } }))).toBe("data.video_url: must be an http(s) URL");
    expect(refused(video.parseCallback({ code: 200, msg: "ok", data: { task_id: ID, video_url: null } }))).toBe("data.video_url is missing from a success callback");
    expect(refused(video.parseCallback({ code: 200, msg: "ok", data: { video_url: MP4 } }))).toBe("data.task_id: is missing");
    expect(refused(video.parseCallback({ code: "200", msg: "ok", data: { task_id: ID, video_url: MP4 } }))).toBe("code: must be a number");
  });

  it("polls /api/v1/mp4/record-info; keeps video/<task>/video.mp4", () => {
    expect(video.recordInfoPath).toBe("/api/v1/mp4/record-info");
    expect(video.key(ID, "video.mp4")).toBe(`video/${ID}/video.mp4`);
  });
});

describe("video record-info", () => {
  const s = (successFlag: string, videoUrl: string | null, extra: Record<string, unknown> = {}) => ({
    taskId: ID,
    musicId: "audioId_0295980ec02e",
    callbackUrl: "https://api.example.com/callback",
    audioId: "e231aaaa-bbbb-cccc-dddd-eeee8cadc7dc",
    completeTime: 1735661400000,
    response: { videoUrl },
    successFlag,
    createTime: 1735661400000,
    errorCode: null,
    errorMessage: null,
    ...extra,
  });

  it("SUCCESS (S's and K's spellings of the times) and CALLBACK_EXCEPTION with a URL name video.mp4", () => {
    expect(recordFiles(video.readRecord(s("SUCCESS", MP4), ID))).toMatchObject({ flag: "SUCCESS", stage: "complete", files: [{ name: "video.mp4", source: { url: MP4 } }] });
    const k = { ...s("SUCCESS", MP4), audioId: undefined, musicIndex: 0, completeTime: "2025-01-01 00:10:00", createTime: "2025-01-01 00:00:00" };
    expect(recordFiles(video.readRecord(k, ID)).files).toHaveLength(1);
    expect(recordFiles(video.readRecord(s("CALLBACK_EXCEPTION", MP4), ID)).flag).toBe("CALLBACK_EXCEPTION");
  });

  it("pending, failed, nothing usable", () => {
    expect(video.readRecord(s("PENDING", null), ID)).toEqual({ status: "pending", flag: "PENDING" });
    expect(video.readRecord(s("GENERATE_MP4_FAILED", null, { errorCode: 500, errorMessage: "render failed" }), ID)).toEqual({
      status: "said",
      said: { type: "failed", error: { code: "500", message: "render failed" } },
      flag: "GENERATE_MP4_FAILED",
    });
    expect(video.readRecord(s("CREATE_TASK_FAILED", null), ID)).toMatchObject({ said: { type: "failed", error: { code: "CREATE_TASK_FAILED" } } });
    expect(video.readRecord(s("SUCCESS", null), ID)).toMatchObject({ status: "unknown" });
    expect(video.readRecord(null, ID)).toMatchObject({ status: "unknown" });
    expect(video.readRecord(s("SUCCESS", "video_url_847715e66259"), ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("not in the documented form") });
  });
});

// The `cover` kind (src/kinds/cover.ts): cover images for a music task (notes: "4. cover").
import { describe, expect, it } from "vitest";
import { cover } from "../../../src/kinds/cover";
import { accepted, offered, recordFiles, refused, urls } from "./helpers";

const ID = "21aee3c3c2a01fa5e030b3799fa4dd56";
const IMAGES = ["https://tempfile.aiquickdraw.com/s/1753958521_6c1b.png", "https://tempfile.aiquickdraw.com/s/1753958524_c153.png"];

describe("cover callbacks", () => {
  it("names cover-1.png, cover-2.png … in the order of data.images (taskId, or task_id)", () => {
    const { taskId, said } = accepted(cover.parseCallback({ code: 200, msg: "success", data: { taskId: ID, images: IMAGES } }));
    expect(taskId).toBe(ID);
    const { stage, files } = offered(said);
    expect(stage).toBe("complete");
    expect(urls(files)).toEqual({ "cover-1.png": IMAGES[0], "cover-2.png": IMAGES[1] });
    expect(files[0]).toEqual({ name: "cover-1.png", role: "image", track: null, contentType: "image/png", source: { url: IMAGES[0] } });
    expect(accepted(cover.parseCallback({ code: 200, msg: "success", data: { task_id: ID, images: IMAGES.slice(0, 1) } })).taskId).toBe(ID);
  });

  it("a failure: code 501 with images null", () => {
    expect(accepted(cover.parseCallback({ code: 501, msg: "Cover generation failed", data: { taskId: ID, images: null } })).said).toEqual({
      type: "failed",
      error: { code: "501", message: "Cover generation failed" },
    });
  });

  it("refuses what is not a usable callback, saying why", () => {
    expect(refused(cover.parseCallback({ code: 200, msg: "success", data: { images: IMAGES } }))).toBe("data.taskId: is missing");
    expect(refused(cover.parseCallback({ code: 200, msg: "success", data: { taskId: "a/b", images: IMAGES } }))).toBe("data.taskId: must be 1-128 letters, digits, '_' or '-'");
    expect(refused(cover.parseCallback({ code: 200, msg: "success", data: { taskId: ID, images: [IMAGES[0], "data:image/png;base64,AAAA"] } }))).toBe("data.images.1: must be an http(s) URL");
    expect(refused(cover.parseCallback({ code: 200, msg: "success", data: { taskId: ID, images: [] } }))).toBe("data.images is missing from a success callback");
    expect(refused(cover.parseCallback({ code: "200", msg: "success", data: { taskId: ID, images: IMAGES } }))).toBe("code: must be a number");
  });

  it("polls /api/v1/suno/cover/record-info; keeps cover/<task>/cover-<n>.png", () => {
    expect(cover.recordInfoPath).toBe("/api/v1/suno/cover/record-info");
    expect(cover.key(ID, "cover-2.png")).toBe(`cover/${ID}/cover-2.png`);
  });
});

describe("cover record-info", () => {
  const record = (successFlag: unknown, images: string[] | null, extra: Record<string, unknown> = {}) => ({
    taskId: ID,
    parentTaskId: "73d6128b3523a0079df10da9471017c8",
    callbackUrl: "https://api.example.com/callback",
    completeTime: "2025-01-15T10:35:27.000Z",
    response: { images },
    successFlag,
    createTime: "2025-01-15T10:33:01.000Z",
    errorCode: 200,
    errorMessage: "",
    ...extra,
  });

  it("successFlag 1 (a number, as the schema says, or words, as one page does) names the images", () => {
    for (const flag of [1, "1", "SUCCESS"]) {
      const r = recordFiles(cover.readRecord(record(flag, IMAGES), ID));
      expect(r.flag).toBe("SUCCESS");
      expect(Object.keys(urls(r.files))).toEqual(["cover-1.png", "cover-2.png"]);
    }
  });

  it("0 (waiting) and 2 (generating) are pending", () => {
    expect(cover.readRecord(record(0, null), ID)).toEqual({ status: "pending", flag: "PENDING" });
    expect(cover.readRecord(record(2, null), ID)).toEqual({ status: "pending", flag: "GENERATING" });
    expect(cover.readRecord(record("PENDING", null), ID)).toEqual({ status: "pending", flag: "PENDING" });
  });

  it("3 (failed) without images fails with its errorCode and errorMessage; the success code 200 is not one", () => {
    expect(cover.readRecord(record(3, null, { errorCode: 501, errorMessage: "Cover generation failed" }), ID)).toEqual({
      status: "said",
      said: { type: "failed", error: { code: "501", message: "Cover generation failed" } },
      flag: "GENERATE_COVER_FAILED",
    });
    expect(cover.readRecord(record(3, null, { errorCode: 200, errorMessage: "" }), ID)).toMatchObject({
      said: { type: "failed", error: { code: "GENERATE_COVER_FAILED", message: "GENERATE_COVER_FAILED" } },
    });
    expect(cover.readRecord(record("CREATE_TASK_FAILED", null), ID)).toMatchObject({ said: { type: "failed", error: { code: "CREATE_TASK_FAILED" } } });
  });

  it("done without images, data null, or an image that is not a URL: nothing usable", () => {
    expect(cover.readRecord(record(1, []), ID)).toMatchObject({ status: "unknown", message: "the provider reports SUCCESS without any file" });
    expect(cover.readRecord(null, ID)).toMatchObject({ status: "unknown" });
    expect(cover.readRecord(record(1, ["not a url"]), ID)).toMatchObject({ status: "unknown", message: expect.stringContaining("not in the documented form") });
  });
});

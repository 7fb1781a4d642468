// Request validation that documents itself: hono-openapi's validator middleware puts the zod schema
// that checks a path or query into the OpenAPI document, and a failure answers the API's own 400
// (README, "Routes"): `invalid_task_id` or `invalid_query`, naming the first problem.

import type { StandardSchemaV1 } from "@standard-schema/spec";
import { validator } from "hono-openapi";
import { z } from "zod";
import { apiError } from "../http/errors";
import { TaskId } from "../storage/layout";

function issueText(issue: StandardSchemaV1.Issue, withPath: boolean): string {
  const path = (issue.path ?? []).map((p) => (typeof p === "object" ? p.key : p)).join(".");
  return withPath && path ? `${path}: ${issue.message}` : issue.message;
}

/** The path's task id (and file name): 400 invalid_task_id, its message as TaskId words it. */
export const TaskParams = z.object({ taskId: TaskId });
export const FileParams = z.object({ taskId: TaskId, name: z.string().min(1).meta({ description: "A file name the task lists (GET the task)" }) });

export function validParams<T extends StandardSchemaV1<Record<string, string>>>(schema: T) {
  return validator("param", schema, (result) => {
    if (!result.success) throw apiError(400, "invalid_task_id", issueText(result.error[0]!, false));
  });
}

/** The query: 400 invalid_query, "<field>: <problem>". */
export function validQuery<T extends StandardSchemaV1>(schema: T) {
  return validator("query", schema, (result) => {
    if (!result.success) throw apiError(400, "invalid_query", issueText(result.error[0]!, true));
  });
}

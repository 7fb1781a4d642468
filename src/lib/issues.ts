// zod's validation issues as one line a person can act on: "<path>: <message>".

import type { z } from "zod";

export function issueText(issue: z.core.$ZodIssue): string {
  return issue.path.length ? `${issue.path.join(".")}: ${issue.message}` : issue.message;
}

/** The first issue only: what an API answer names. */
export function firstIssue(error: z.ZodError): string {
  return issueText(error.issues[0]!);
}

// Reading the dashboard as a signed-in person does: sign in, fetch a page, read its text.

import { expect } from "vitest";
import { API_TOKEN, call, ORIGIN } from "./worker";

/** Signs in with API_TOKEN; the session cookie (name=value) to send back. */
export async function signIn(): Promise<string> {
  const res = await call("/sign-in", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ token: API_TOKEN }).toString(),
    redirect: "manual",
  });
  expect(res.status).toBe(303);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

/** A dashboard page's HTML, which must answer 200. */
export async function page(path: string, cookie: string): Promise<string> {
  const res = await call(path, { headers: { cookie } });
  expect(res.status, path).toBe(200);
  return res.text();
}

/** A page's text as a person reads it: tags gone, entities decoded, spaces collapsed. */
export function textOf(html: string): string {
  return html
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

// What may be shown of a URL or a message: the one place that removes secrets. URLs may carry
// signed query strings (a CDN link's token, the callback URL's ?token=, a download link's ?sig=),
// and a provider's or a runtime's message may quote them or a configured secret.

/** Settings whose values never appear in a log line, an answer or a task's history. */
const SECRET_SETTINGS = ["API_TOKEN", "API_TOKEN_NEXT", "WEBHOOK_HMAC_KEY", "CALLBACK_TOKEN", "SUNO_API_KEY", "NOTIFY_SECRET"];

/** A URL as it may be shown and kept: scheme, host and path; no credentials, query or fragment. */
export function withoutQuery(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "(invalid URL)";
  }
}

/**
 * Free text fit for a log line, an answer or a history entry: query strings cut from the URLs in
 * it (or, with `hideUrls`, every URL replaced by "<url>"), and no configured secret's value — also
 * not as a URL-encoded (once or twice), form-encoded or JSON-escaped quote of it, as a provider may
 * echo the callBackUrl it was sent.
 */
export function redactText(text: string, env?: object, opts: { hideUrls?: boolean } = {}): string {
  let out = opts.hideUrls
    ? text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, "<url>")
    : text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#"'<>]*)\?[^\s#"'<>]*/gi, "$1?[query removed]");
  // An encoded URL has no literal "?": cut whatever follows an encoded one, once or twice encoded.
  out = out.replace(/%(?:25)?3F[^\s#"'<>]*/gi, "%3F[query removed]");
  for (const name of SECRET_SETTINGS) {
    const value = (env as Record<string, unknown> | undefined)?.[name];
    if (typeof value !== "string" || value.trim().length < 4) continue;
    const raw = value.trim();
    const forms = [raw, encodeURIComponent(raw), new URLSearchParams({ t: raw }).toString().slice(2), JSON.stringify(raw).slice(1, -1)];
    for (const form of [...forms, ...forms.map(encodeURIComponent)]) out = out.split(form).join("[secret]");
  }
  return out;
}

/** An error's message, redacted: never its stack or cause, which may quote a URL or a secret. */
export function errorText(err: unknown, env?: object, opts: { hideUrls?: boolean } = {}): string {
  return redactText(err instanceof Error ? err.message : String(err), env, opts);
}

// The settings check page's findings: each setting that is missing or unsafe for production,
// and what to do about it; and the effective non-secret settings, as this deployment reads them.
// Reads settings through readConfig, like every route. No finding and no row ever shows a secret's
// value (README, "Configuration"; "Deploy" says where each secret comes from).

import { ConfigError, readConfig, type Config } from "../config";
import { formatBytes } from "./format";
import { duration } from "./time";

export type Level = "ok" | "warn" | "problem";

export interface Finding {
  name: string;
  level: Level;
  message: string;
  fix?: string;
}

const DEV_VALUES: Record<string, string> = {
  API_TOKEN: "dev-api-token",
  WEBHOOK_HMAC_KEY: "dev-webhook-key",
  SUNO_API_KEY: "dev-suno-key",
};

const LOCAL_HOST = /^(127\.|localhost\b|\[?::1\]?)/i;

/**
 * Where each secret comes from and how to set it. The provider's two come from its account, not
 * from us: README, "Deploy" says what is known about them.
 */
const SECRET_ADVICE: Record<"API_TOKEN" | "WEBHOOK_HMAC_KEY" | "SUNO_API_KEY", string> = {
  API_TOKEN: "Make a long random value of your own (e.g. openssl rand -hex 32) and set it: wrangler secret put API_TOKEN",
  WEBHOOK_HMAC_KEY:
    "Use the webhook signing key of your Suno API account: enable callback signing in the webhook security settings of the provider's dashboard, where the key is shown, then wrangler secret put WEBHOOK_HMAC_KEY. If your account has no such setting, leave it unset and set CALLBACK_TOKEN (a random value of your own) instead (README, Deploy).",
  SUNO_API_KEY: "Use the API key of your Suno API account, from the API key page of the provider's dashboard: wrangler secret put SUNO_API_KEY",
};

/** One effective non-secret setting as the deployment reads it (defaults filled in). */
export interface EffectiveSetting {
  name: string;
  value: string;
  /** What the value means, in words ("5 min", "2.0 GiB"), when that helps. */
  note?: string;
}

/** A URL without credentials, query or fragment (settings may be URLs; a URL may carry a secret). */
function safeUrl(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "(not a URL)";
  }
}

/** The settings that shape behaviour and are no secret, for the settings page. Null when the settings cannot be read. */
export function effectiveSettings(env: object): EffectiveSetting[] | null {
  let c: Config;
  try {
    c = readConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return null;
    throw err;
  }
  const secs = (name: string, v: number): EffectiveSetting => ({ name, value: `${v} s`, ...(v >= 60 ? { note: duration(v * 1000) } : {}) });
  return [
    { name: "SUNO_API_BASE", value: safeUrl(c.SUNO_API_BASE), ...(c.SUNO_API_BASE === "https://api.sunoapi.org" ? { note: "the provider (default)" } : {}) },
    { name: "PUBLIC_URL", value: c.PUBLIC_URL ? safeUrl(c.PUBLIC_URL) : "(not set)", ...(c.PUBLIC_URL ? {} : { note: "each request's own origin is used" }) },
    { name: "WAV_SOURCE_HOSTS", value: c.WAV_SOURCE_HOSTS.length ? c.WAV_SOURCE_HOSTS.join(", ") : "(empty)", ...(c.WAV_SOURCE_HOSTS.length ? {} : { note: "any public https host" }) },
    { name: "NOTIFY_URL", value: c.NOTIFY_URL ? hostOf(c.NOTIFY_URL) : "(not set)", note: c.NOTIFY_URL ? "host only; announcements are on" : "announcements are off" },
    secs("OVERDUE_AFTER_SECONDS", c.OVERDUE_AFTER_SECONDS),
    secs("TASK_MAX_AGE_SECONDS", c.TASK_MAX_AGE_SECONDS),
    secs("PROVIDER_RETENTION_SECONDS", c.PROVIDER_RETENTION_SECONDS),
    secs("SOURCE_IDLE_TIMEOUT_SECONDS", c.SOURCE_IDLE_TIMEOUT_SECONDS),
    { name: "MAX_WAV_BYTES", value: String(c.MAX_WAV_BYTES), note: formatBytes(c.MAX_WAV_BYTES) },
  ];
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "(not a URL)";
  }
}

export function checkSettings(env: object): Finding[] {
  let config: Config;
  try {
    config = readConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return [{ name: "configuration", level: "problem", message: err.message, fix: "Correct the named setting; until then the affected routes answer 500 misconfigured." }];
  }
  const out: Finding[] = [];
  const secret = (name: "API_TOKEN" | "WEBHOOK_HMAC_KEY" | "SUNO_API_KEY", missing: Omit<Finding, "name" | "level">) => {
    const value = config[name];
    if (!value) out.push({ name, level: "problem", ...missing });
    else if (value === DEV_VALUES[name])
      out.push({ name, level: "problem", message: "Still the development value from .dev.vars.example.", fix: SECRET_ADVICE[name] });
    else if (name === "API_TOKEN" && value.length < 24)
      out.push({ name, level: "warn", message: `Only ${value.length} characters long; easy to guess.`, fix: "Use 32 or more random characters: wrangler secret put API_TOKEN" });
    else out.push({ name, level: "ok", message: "Set." });
  };

  secret("API_TOKEN", { message: "Not set: the API and this dashboard are closed.", fix: SECRET_ADVICE.API_TOKEN });
  rotation(config, out);
  if (!config.WEBHOOK_HMAC_KEY && config.CALLBACK_TOKEN) {
    out.push({
      name: "WEBHOOK_HMAC_KEY",
      level: "warn",
      message: "Not set: callbacks are checked by CALLBACK_TOKEN alone, not by the provider's signature.",
      fix: SECRET_ADVICE.WEBHOOK_HMAC_KEY,
    });
  } else {
    secret("WEBHOOK_HMAC_KEY", {
      message: "Not set: callbacks are not checked for the provider's signature.",
      fix: SECRET_ADVICE.WEBHOOK_HMAC_KEY,
    });
  }
  if (config.ALLOW_UNVERIFIED_CALLBACKS) {
    out.push({
      name: "ALLOW_UNVERIFIED_CALLBACKS",
      level: "problem",
      message: "true: anyone can post a callback that this worker will believe.",
      fix: 'Set it to "false" in wrangler.toml [vars] (local development only).',
    });
  } else out.push({ name: "ALLOW_UNVERIFIED_CALLBACKS", level: "ok", message: "false." });
  if (!config.WEBHOOK_HMAC_KEY && !config.CALLBACK_TOKEN && !config.ALLOW_UNVERIFIED_CALLBACKS) {
    out.push({ name: "CALLBACK_TOKEN", level: "problem", message: "Neither a signature key nor a callback token: every callback is refused with 503.", fix: "Set WEBHOOK_HMAC_KEY (preferred) or CALLBACK_TOKEN." });
  }

  if (config.WAV_SOURCE_HOSTS.length === 0) {
    out.push({
      name: "WAV_SOURCE_HOSTS",
      level: "problem",
      message: "Empty: WAVs are fetched from any host a callback names.",
      fix: "List the provider's WAV hosts, comma-separated (e.g. *.example.com), in wrangler.toml [vars].",
    });
  } else if (config.WAV_SOURCE_HOSTS.some((h) => LOCAL_HOST.test(h))) {
    out.push({ name: "WAV_SOURCE_HOSTS", level: "warn", message: `Allows local hosts (${config.WAV_SOURCE_HOSTS.join(", ")}).`, fix: "Keep only the provider's hosts in production." });
  } else out.push({ name: "WAV_SOURCE_HOSTS", level: "ok", message: config.WAV_SOURCE_HOSTS.join(", ") });

  if (!config.PUBLIC_URL) {
    out.push({
      name: "PUBLIC_URL",
      level: "problem",
      message: "Not set: the callBackUrl sent to the provider is guessed from each request's host.",
      fix: "Set it to the worker's public origin (https://…) in wrangler.toml [vars].",
    });
  } else if (!config.PUBLIC_URL.startsWith("https://")) {
    out.push({ name: "PUBLIC_URL", level: "warn", message: `${safeUrl(config.PUBLIC_URL)} is not https.`, fix: "Use the worker's https origin in production." });
  } else out.push({ name: "PUBLIC_URL", level: "ok", message: safeUrl(config.PUBLIC_URL) });

  if (!config.NOTIFY_URL) {
    out.push({
      name: "NOTIFY_URL",
      level: "warn",
      message: "Not set: your app is not told when a task is stored or failed.",
      fix: "Set NOTIFY_URL to your app's endpoint and NOTIFY_SECRET (whsec_…) with wrangler secret put.",
    });
  } else out.push({ name: "NOTIFY_URL", level: "ok", message: "Set." });

  secret("SUNO_API_KEY", {
    message: "Not set: POST /api/tasks cannot submit conversions and overdue tasks cannot be polled.",
    fix: SECRET_ADVICE.SUNO_API_KEY,
  });
  if (config.SUNO_API_BASE !== "https://api.sunoapi.org") {
    out.push({ name: "SUNO_API_BASE", level: "warn", message: `Points at ${safeUrl(config.SUNO_API_BASE)}, not the provider.`, fix: "Remove it (default https://api.sunoapi.org) unless you mean a test double." });
  }
  return out;
}

/** API_TOKEN_NEXT, when set: a rotation under way (README, "Security" → "Rotating the API token"). */
function rotation(config: Config, out: Finding[]): void {
  const next = config.API_TOKEN_NEXT;
  if (!next) return;
  const finish = "Once every client uses it: wrangler secret put API_TOKEN (the new value), then wrangler secret delete API_TOKEN_NEXT.";
  if (next === config.API_TOKEN) out.push({ name: "API_TOKEN_NEXT", level: "warn", message: "The same as API_TOKEN: nothing is being rotated.", fix: "wrangler secret delete API_TOKEN_NEXT" });
  else if (next.length < 24) out.push({ name: "API_TOKEN_NEXT", level: "warn", message: `Only ${next.length} characters long; easy to guess.`, fix: "Use 32 or more random characters." });
  else out.push({ name: "API_TOKEN_NEXT", level: "warn", message: "Set: a second API token is accepted beside API_TOKEN while a rotation is under way.", fix: finish });
}

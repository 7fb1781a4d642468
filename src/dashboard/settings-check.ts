// The settings check page's findings: each setting that is missing or unsafe for production,
// and what to do about it. Reads settings through readConfig, like every route.

import { ConfigError, readConfig, type Config } from "../config";

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
      out.push({ name, level: "problem", message: "Still the development value from .dev.vars.example.", fix: `Set a long random value: wrangler secret put ${name}` });
    else if (name === "API_TOKEN" && value.length < 24)
      out.push({ name, level: "warn", message: `Only ${value.length} characters long; easy to guess.`, fix: "Use 32 or more random characters: wrangler secret put API_TOKEN" });
    else out.push({ name, level: "ok", message: "Set." });
  };

  secret("API_TOKEN", { message: "Not set: the API and this dashboard are closed.", fix: "wrangler secret put API_TOKEN" });
  secret("WEBHOOK_HMAC_KEY", {
    message: "Not set: callbacks are not checked for the provider's signature.",
    fix: "Copy the webhook signing key from the provider's console: wrangler secret put WEBHOOK_HMAC_KEY",
  });
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
    out.push({ name: "PUBLIC_URL", level: "warn", message: `${config.PUBLIC_URL} is not https.`, fix: "Use the worker's https origin in production." });
  } else out.push({ name: "PUBLIC_URL", level: "ok", message: config.PUBLIC_URL });

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
    fix: "wrangler secret put SUNO_API_KEY",
  });
  if (config.SUNO_API_BASE !== "https://api.sunoapi.org") {
    out.push({ name: "SUNO_API_BASE", level: "warn", message: `Points at ${config.SUNO_API_BASE}, not the provider.`, fix: "Remove it (default https://api.sunoapi.org) unless you mean a test double." });
  }
  return out;
}

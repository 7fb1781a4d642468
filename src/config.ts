import { z } from "zod";

// Every setting arrives as a string (wrangler [vars], secrets, .dev.vars); this module is the
// one place that turns them into typed values, so a typo fails loudly instead of silently.

/** An optional secret: unset and "" both mean "not configured". */
const optionalSecret = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v));

const seconds = (fallback: number) =>
  z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? String(fallback) : v))
    .pipe(z.coerce.number<string>().int().positive());

const ConfigSchema = z.object({
  SUNO_API_BASE: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? "https://api.sunoapi.org" : v.trim()))
    .pipe(z.url({ protocol: /^https?$/ }))
    .transform((v) => v.replace(/\/+$/, "")),
  SUNO_API_KEY: optionalSecret,
  WEBHOOK_HMAC_KEY: optionalSecret,
  CALLBACK_TOKEN: optionalSecret,
  API_TOKEN: optionalSecret,
  PUBLIC_URL: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim().replace(/\/+$/, "")))
    .pipe(z.url({ protocol: /^https?$/ }).optional()),
  WAV_SOURCE_HOSTS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? "")
        .split(",")
        .map((h) => h.trim().toLowerCase())
        .filter((h) => h !== ""),
    ),
  OVERDUE_AFTER_SECONDS: seconds(300),
  TASK_MAX_AGE_SECONDS: seconds(86_400),
  MAX_WAV_BYTES: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === "" ? "2147483648" : v))
    .pipe(z.coerce.number<string>().int().positive()),
  ALLOW_UNVERIFIED_CALLBACKS: z
    .string()
    .optional()
    .transform((v) => v?.trim().toLowerCase() === "true"),
  // Not in the provider contract: how long a WAV source may send nothing before the attempt is
  // abandoned. Tests shorten it; production keeps the default.
  SOURCE_IDLE_TIMEOUT_SECONDS: seconds(30),
});

export type Config = z.output<typeof ConfigSchema>;

/** Thrown when the deployment's settings are unusable; answered as a 500 naming the setting. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** Parses (once per env object) and validates the Worker's settings. */
export function readConfig(env: object): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const parsed = ConfigSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  cache.set(env, parsed.data);
  return parsed.data;
}

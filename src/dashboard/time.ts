// Times as a person reads them on the dashboard: "3 min ago", "in 2 min", and the exact UTC time
// for the hover title. Pure functions of the time and "now", so pages and tests agree.

/** A span of time in words: "45 s", "2 min", "3 h", "4 days". */
export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.round(s / 3600);
  if (h < 48) return `${h} h`;
  const days = Math.round(s / 86_400);
  return `${days} days`;
}

/** `at` seen from `now`: "just now", "5 min ago", "in 2 min". */
export function relativeTime(at: number, now: number): string {
  const diff = at - now;
  if (Math.abs(diff) < 1000) return "just now";
  return diff > 0 ? `in ${duration(diff)}` : `${duration(diff)} ago`;
}

/** The exact time, for the hover title: "2026-12-01 21:13:40 UTC". */
export function exactTime(at: number): string {
  return new Date(at).toISOString().replace("T", " ").replace(/\.\d+Z$/, " UTC");
}

/** An ISO time from the API as epoch milliseconds, or null when it is missing or not a time. */
export function parseTime(value: unknown): number | null {
  if (typeof value !== "string" || value === "") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

// The security headers of the pages the worker serves — the dashboard and the API reference
// (README, "Security"): everything from the worker itself, no inline script, never framed, no
// referrer beyond this origin. A page that needs more passes only its additions.

import { secureHeaders } from "hono/secure-headers";

type Policy = NonNullable<NonNullable<Parameters<typeof secureHeaders>[0]>["contentSecurityPolicy"]>;

const PAGE_POLICY = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'"],
  mediaSrc: ["'self'"],
  connectSrc: ["'self'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
} satisfies Policy;

/** secureHeaders with the pages' policy, and `additions` replacing its directives of the same name. */
export function pageHeaders(additions: Policy = {}) {
  return secureHeaders({
    contentSecurityPolicy: { ...PAGE_POLICY, ...additions },
    referrerPolicy: "same-origin",
    crossOriginResourcePolicy: "same-origin",
  });
}

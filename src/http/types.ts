import type { Callback } from "../callback/schema";

/** Hono's environment for this app: the Worker's bindings and what middleware leaves behind. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** A verified, validated provider callback (set by verify-callback). */
    callback: Callback;
  };
}

import type { KindName, ProviderSaid } from "../kinds/kind";

/** A verified, validated provider callback (set by verify-callback). */
export interface Callback {
  kind: KindName;
  taskId: string;
  said: ProviderSaid;
  /** The verified X-Webhook-Timestamp (null when signatures are not in use). */
  signedAt: number | null;
}

/** Hono's environment for this app: the Worker's bindings and what middleware leaves behind. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    callback: Callback;
  };
}

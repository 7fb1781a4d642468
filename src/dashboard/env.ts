import type { AppEnv } from "../http/types";
import type { Session } from "./session";

/** The dashboard's Hono environment: the app's, plus the signed-in session. */
export interface DashEnv {
  Bindings: AppEnv["Bindings"];
  Variables: AppEnv["Variables"] & { session: Session };
}

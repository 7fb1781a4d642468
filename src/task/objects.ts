import type { TaskObject } from "./object";

/** The Durable Object that owns a task, addressed by the provider's task id. */
export function taskObject(env: Env, taskId: string): DurableObjectStub<TaskObject> {
  const ns = env.TASKS as DurableObjectNamespace<TaskObject>;
  return ns.get(ns.idFromName(taskId));
}

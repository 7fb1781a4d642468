import type { TaskObject } from "./object";

/** The Durable Object that owns a task, addressed by the provider's task id. */
export function taskObject(env: Env, taskId: string): DurableObjectStub<TaskObject> {
  return env.TASKS.get(env.TASKS.idFromName(taskId));
}

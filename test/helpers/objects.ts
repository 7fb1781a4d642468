// Small tools for tests that change what one Durable Object sees (its env) or when things happen
// (a fake Date shared by the Worker's code in this isolate).

import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { runnerOf } from "./durable";

const ORIGINAL_ENV = "__originalEnvForTests";

type WithEnv = { env: Env; [ORIGINAL_ENV]?: Env };

/**
 * Gives one object (a shard, a runner) another env until restoreEnv(): settings (strings) or
 * bindings (an R2 bucket that fails, say). Other objects and the fetch handler keep theirs.
 */
export async function swapEnv(stub: DurableObjectStub, patch: Partial<Record<keyof Env, unknown>>): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    const self = instance as unknown as WithEnv;
    self[ORIGINAL_ENV] ??= self.env;
    self.env = { ...self[ORIGINAL_ENV], ...patch } as Env;
  });
}

export async function restoreEnv(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    const self = instance as unknown as WithEnv;
    if (self[ORIGINAL_ENV]) self.env = self[ORIGINAL_ENV];
    delete self[ORIGINAL_ENV];
  });
}

/** Runs `fn` with Date (only Date) set to `ms`, then the real clock again. */
export async function atTime<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(ms);
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

/** The id of the task's runner, as its reports carry it. */
export async function runnerIdOf(taskId: string): Promise<string> {
  const runner = await runnerOf(taskId);
  if (!runner) throw new Error(`task ${taskId} has no runner yet`);
  return runInDurableObject(runner, (_i, state) => state.id.toString());
}

/** An R2 bucket whose `method` always fails (as R2 does on an internal error); all else is real. */
export function failingBucket(bucket: R2Bucket, method: keyof R2Bucket, calls?: { n: number }): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      if (prop === method) {
        return () => {
          if (calls) calls.n++;
          return Promise.reject(new Error("We encountered an internal error. Please try again. (10001)"));
        };
      }
      const value = Reflect.get(target, prop) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

// A Vite plugin for the worker suite (test/vitest.config.ts) that drops one warning from the
// logger vitest sets up: the published standardwebhooks package ships source maps naming sources
// it does not ship, and Vite says so once per run ("Sourcemap for …/node_modules/standardwebhooks/…
// points to missing source files"). Nothing can be done about it here; nothing else is dropped.

import type { Logger, Plugin } from "vite";

const DROPPED = /^Sourcemap for "[^"]*\/node_modules\/standardwebhooks\/[^"]*" points to missing source files$/;

export function quietViteLogger(): Plugin {
  return {
    name: "wav-edge:quiet-vite-logger",
    // After vitest's own plugin, which replaces customLogger with its logger.
    enforce: "post",
    config(config) {
      const logger = config.customLogger;
      if (!logger) return;
      const filtered: Logger = {
        ...logger,
        warn: (msg, options) => {
          if (!DROPPED.test(msg)) logger.warn(msg, options);
        },
        warnOnce: (msg, options) => {
          if (!DROPPED.test(msg)) logger.warnOnce(msg, options);
        },
      };
      config.customLogger = filtered;
    },
  };
}

// Runs one `wrangler dev` session in this process through wrangler's programmatic API
// (unstable_startWorker), for the e2e harness (./harness.ts), which starts this file as a child
// process and stops it by pid. Compared with spawning the CLI it turns file watching off — edits
// made to src/ while a test or the bench runs do not reload the worker under measurement — and
// it hands the worker's console output over line by line.
//
//   node test/e2e/dev-server.ts '<json DevServerOptions>'
//
// Output (stdout): one JSON object per line: {"ready": "<url>"} once the worker answers, then
// {"log": "<level>", "message": "..."} per console line of the worker. It shuts the session down
// on SIGTERM/SIGINT, or when its stdin closes (the parent went away).

import { unstable_startWorker } from "wrangler";

export interface DevServerOptions {
  /** wrangler.toml of the worker. */
  config: string;
  /** .env-style file with the settings and secrets (replaces .dev.vars). */
  envFile: string;
  host: string;
  port: number;
  /** Local state (Durable Objects, R2) goes here. */
  persistTo: string;
}

const opts = JSON.parse(process.argv[2] ?? "{}") as DevServerOptions;
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);

const worker = await unstable_startWorker({
  config: opts.config,
  envFiles: [opts.envFile],
  dev: {
    server: { hostname: opts.host, port: opts.port },
    inspector: false,
    persist: opts.persistTo,
    testScheduled: true,
    watch: false,
    logLevel: "warn",
    structuredLogsHandler: ({ level, message }: { level: string; message: string }) => {
      for (const line of message.split("\n")) if (line !== "") out({ log: level, message: line });
    },
  },
});
await worker.ready;
out({ ready: String(await worker.url) });

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  try {
    await worker.dispose();
  } finally {
    process.exit(0);
  }
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("error", () => void stop());
process.stdin.resume();

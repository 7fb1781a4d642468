// `npm run simulate`: the provider simulator, "your app" (the receiver of the worker's signed
// announcements, at NOTIFY_URL) and the demo. With the worker running (`npm start` in another
// terminal), it plays one task per scenario — WAV conversions submitted through the worker, and
// every other product (music, stems, video, cover, midi, lyrics) as your app would ask the
// provider for it — prints each task's journey — submit → callbacks → stored → announced — and
// each task's files with their sha256, checks the outcome, and exits 0 only when every task ended
// as expected.
//
//   npm run simulate                          # the demo: every product, and the WAV scenarios
//   npm run simulate -- --scenarios success,late,music,music:late --wav-seconds 30
//   npm run simulate -- --serve               # only the provider, until Ctrl-C
//   npm run simulate -- --help

import { existsSync, readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { DEFAULT_SCENARIOS, formatResults, runDemo, scenarioLabel } from "./demo.ts";
import { isAddressInUse, portOwner } from "./port-owner.ts";
import { PRODUCT_API, PRODUCTS, SCENARIOS, startSimulator, type Product, type Scenario, type ScenarioName, type SimEvent } from "./simulator.ts";
import type { WavSpec } from "./wav.ts";
import { WorkerClient } from "./worker-client.ts";
import { startYourApp, type YourApp } from "./your-app.ts";

const HELP = `npm run simulate -- [options]

A local stand-in for the Suno API (every product: WAV, music, stems, video, cover images, MIDI,
lyrics), and a demo of the worker against it. Start the worker first, in another terminal:
npm start

Options (defaults come from .dev.vars, else .dev.vars.example):
  --worker <url>             the worker's origin (PUBLIC_URL; http://127.0.0.1:8787)
  --port <n>                 port of the simulator (from SUNO_API_BASE; 8788)
  --api-token <t>            the worker's API_TOKEN
  --hmac-key <k>             key to sign callbacks with (WEBHOOK_HMAC_KEY); "" sends them unsigned
  --suno-key <k>             bearer key the worker must send (SUNO_API_KEY)
  --overdue <s>              the worker's OVERDUE_AFTER_SECONDS (when to run its cron for late
                             tasks)
  --scenarios <list>         comma-separated; each one is
                               success, failure, duplicate or late: a WAV conversion, submitted
                                 through the worker
                               <kind>: that product's task, asked of the provider as your app
                                 would, its callbacks sent to /callbacks/<kind> (music: text →
                                 first → complete); the kinds:
                                 ${PRODUCTS.filter((p) => p !== "wav").join(", ")}
                               <kind>:<scenario>: that product with another scenario, e.g.
                                 music:late (no callback: registered with PUT {"kind"}, then
                                 polled by the cron), stems:failure, cover:duplicate
                             default: ${DEFAULT_SCENARIOS.map(scenarioLabel).slice(0, 7).join(",")},
                               ${DEFAULT_SCENARIOS.map(scenarioLabel).slice(7).join(",")}
  --wav-seconds <s>          length of each WAV (default 2 s of 48 kHz stereo ≈ 375 KiB)
  --wav-bytes <n>            size of each WAV in bytes instead
  --chunked                  serve WAVs without Content-Length (chunked)
  --failure-code <n>         code of failure callbacks (default: the product's documented one;
                             451 for WAVs)
  --late-pending-polls <n>   record-info says PENDING this many times before SUCCESS (default 0;
                             each one costs the worker's 30 s minimum poll interval)
  --no-announcements         do not start your app or expect announcements (as when NOTIFY_URL
                             is unset); by default your app listens on NOTIFY_URL's port and path
                             (http://127.0.0.1:8789/hooks/wav) and verifies with NOTIFY_SECRET
  --serve                    only run the provider and your app (no demo) until Ctrl-C
  --quiet                    print only the summary
  -h, --help
`;

/** A --scenarios entry as a scenario: "late" (a WAV one), "music", "music:late"; null when unknown. */
function parseScenario(token: string): Scenario | null {
  const [a, b] = token.split(":");
  if (b === undefined && (SCENARIOS as readonly string[]).includes(a!)) return { kind: a as ScenarioName };
  if (!(PRODUCTS as readonly string[]).includes(a!)) return null;
  const kind = b ?? "success";
  if (!(SCENARIOS as readonly string[]).includes(kind)) return null;
  return { kind: kind as ScenarioName, product: a as Product };
}

/** "Port 8789, for your app (…), is taken by node … (pid 123)" — or "by another process". */
function portTaken(port: number, what: string, owner = portOwner(port)): string {
  return `Port ${port}, for ${what}, is taken by ${owner ?? "another process"}`;
}

function readVars(): Record<string, string> {
  const file = [".dev.vars", ".dev.vars.example"].find((f) => existsSync(f));
  if (!file) return {};
  const vars: Record<string, string> = {};
  for (const line of readFileSync(file, "utf8").split(/\r?\n/)) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, "$2");
  }
  return vars;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      worker: { type: "string" },
      port: { type: "string" },
      "api-token": { type: "string" },
      "hmac-key": { type: "string" },
      "suno-key": { type: "string" },
      overdue: { type: "string" },
      scenarios: { type: "string" },
      "wav-seconds": { type: "string" },
      "wav-bytes": { type: "string" },
      chunked: { type: "boolean" },
      "failure-code": { type: "string" },
      "late-pending-polls": { type: "string" },
      serve: { type: "boolean" },
      "no-announcements": { type: "boolean" },
      quiet: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const vars = readVars();
  const workerUrl = values.worker ?? (vars.PUBLIC_URL || "http://127.0.0.1:8787");
  const port = Number(values.port ?? (vars.SUNO_API_BASE ? new URL(vars.SUNO_API_BASE).port || 80 : 8788));
  const apiToken = values["api-token"] ?? vars.API_TOKEN ?? "dev-api-token";
  const hmacKey = values["hmac-key"] ?? vars.WEBHOOK_HMAC_KEY ?? "dev-webhook-key";
  const sunoKey = values["suno-key"] ?? vars.SUNO_API_KEY ?? "dev-suno-key";
  const overdue = Number(values.overdue ?? (vars.OVERDUE_AFTER_SECONDS || 300));
  const wav: WavSpec = {};
  if (values["wav-bytes"] !== undefined) wav.bytes = Number(values["wav-bytes"]);
  else if (values["wav-seconds"] !== undefined) wav.seconds = Number(values["wav-seconds"]);
  else wav.seconds = 2;
  if (values.chunked) wav.chunked = true;
  const tokens = values.scenarios === undefined ? DEFAULT_SCENARIOS.map(scenarioLabel) : values.scenarios.split(",").map((s) => s.trim()).filter(Boolean);
  const scenarios: Scenario[] = [];
  for (const token of tokens) {
    const parsed = parseScenario(token);
    if (!parsed) {
      process.stderr.write(`unknown scenario "${token}"; choose from ${SCENARIOS.join(", ")} (WAV), a kind (${PRODUCTS.filter((p) => p !== "wav").join(", ")}), or <kind>:<scenario> such as music:late\n`);
      return 2;
    }
    const s: Scenario = parsed.product ? parsed : { ...parsed, wav };
    if (s.kind === "failure" && values["failure-code"]) s.failureCode = Number(values["failure-code"]);
    if (s.kind === "late" && values["late-pending-polls"]) s.pendingPolls = Number(values["late-pending-polls"]);
    scenarios.push(s);
  }
  const labels = scenarios.map(scenarioLabel);

  const log = values.quiet ? () => {} : (line: string) => process.stdout.write(`${line}\n`);

  // Your app listens where the worker's NOTIFY_URL points, when that is this machine.
  let app: YourApp | null = null;
  let appNote = "";
  const notifyUrl = vars.NOTIFY_URL?.trim() ?? "";
  if (values["no-announcements"]) appNote = "announcements not checked (--no-announcements)";
  else if (notifyUrl === "") appNote = "NOTIFY_URL is not set in .dev.vars, so the worker announces nothing (copy the NOTIFY_* lines from .dev.vars.example to see announcements)";
  else {
    const u = new URL(notifyUrl);
    if (!["127.0.0.1", "localhost", "[::1]"].includes(u.hostname)) appNote = `NOTIFY_URL points at ${u.host}, not this machine: your app is not started and announcements are not checked`;
    else if (!vars.NOTIFY_SECRET) {
      process.stderr.write("NOTIFY_URL is set but NOTIFY_SECRET is not: the worker cannot sign announcements (see .dev.vars.example)\n");
      return 2;
    } else {
      const appPort = Number(u.port || 80);
      try {
        app = await startYourApp({ secret: vars.NOTIFY_SECRET, port: appPort, host: u.hostname === "localhost" ? "127.0.0.1" : u.hostname.replace(/^\[|\]$/g, ""), path: u.pathname });
      } catch (err) {
        if (!isAddressInUse(err)) throw err;
        const owner = portOwner(appPort);
        const advice = owner?.includes("simulator/main.ts")
          ? "that is another `npm run simulate`: stop it (Ctrl-C in its terminal), then run this again"
          : `stop it, or run \`npm run simulate -- ${values.serve ? "--serve " : ""}--no-announcements\` to leave the announcements to it (your own app, say)`;
        process.stderr.write(`${portTaken(appPort, "your app (NOTIFY_URL in .dev.vars)", owner)}: ${advice}.\n`);
        return 2;
      }
      appNote = `your app on ${app.url} verifies announcements with the standardwebhooks package`;
    }
  }

  let sim;
  try {
    sim = await startSimulator({
      port,
      apiKey: sunoKey,
      hmacKey: hmacKey === "" ? null : hmacKey,
      overdueAfterSeconds: overdue,
      defaultWav: wav,
    });
  } catch (err) {
    if (!isAddressInUse(err)) throw err;
    await app?.stop();
    process.stderr.write(
      `${portTaken(port, "the provider simulator (SUNO_API_BASE in .dev.vars)")}: stop it first (Ctrl-C in its terminal, if it is \`npm run simulate -- --serve\`), then run this again.\n`,
    );
    return 2;
  }
  const stop = async () => {
    await sim.stop();
    await app?.stop();
  };
  process.once("SIGINT", () => void stop().then(() => process.exit(130)));

  if (values.serve) {
    log(`provider simulator on ${sim.url} (bearer ${sunoKey}; callbacks ${hmacKey ? "signed" : "unsigned"}; Ctrl-C to stop)`);
    for (const p of PRODUCTS) log(`  ${p.padEnd(7)} POST ${sim.url}${PRODUCT_API[p].generate}   GET ${sim.url}${PRODUCT_API[p].recordInfo}?taskId=`);
    log(`  files   GET ${sim.url}/wav/<name>.wav?seconds=|bytes=[&chunked=1]   GET ${sim.url}/media/<name>.<mp3|jpeg|png|mp4>`);
    log(`  a generate request plays the scenario its audioId (or prompt) starts with: ${SCENARIOS.join(", ")} (default success)`);
    sim.on((e: SimEvent) => {
      const t = new Date(e.at).toISOString().slice(11, 23);
      if (e.type === "submitted") log(`${t} ${e.task.product} generate → ${e.task.taskId} (${e.task.scenario.kind}) callBackUrl ${e.task.callBackUrl}`);
      else if (e.type === "callback") log(`${t} callback ${e.task.taskId}${e.delivery.stage ? ` ${e.delivery.stage}` : ""} copy ${e.delivery.copy} → ${e.delivery.status ?? e.delivery.error}`);
      else if (e.type === "record-info") log(`${t} ${e.product} record-info ${e.taskId} → ${e.flag}`);
      else if (e.type === "wav-end" || e.type === "file-end") log(`${t} served ${e.served.path}: ${e.served.bytesSent} B${e.served.complete ? "" : " (cut short)"} sha256 ${e.served.sha256}`);
      else if (e.type === "cron") log(`${t} /__scheduled → ${e.status ?? e.error}`);
    });
    log(appNote);
    app?.on((r) => {
      const t = new Date(r.at).toISOString().slice(11, 23);
      if (r.verified) log(`${t} your app: ${r.payload?.type} for ${r.payload?.data.taskId} ${r.id} copy ${r.copy} (signature verified) → ${r.status}`);
      else log(`${t} your app: refused an announcement (${r.error}) → 401`);
    });
    await new Promise(() => {});
  }

  const worker = new WorkerClient(workerUrl, apiToken);
  if (!(await worker.healthy())) {
    process.stderr.write(
      `No worker answers at ${workerUrl}/healthz.\nStart it in another terminal with \`npm start\` (wrangler dev on 127.0.0.1:8787), then run \`npm run simulate\` again.\n`,
    );
    await stop();
    return 2;
  }
  log(`provider simulator on ${sim.url}; worker at ${workerUrl}; late tasks are polled after ${overdue} s`);
  log(appNote);
  log(`scenarios: ${labels.join(", ")}; WAVs ${wav.bytes !== undefined ? `${wav.bytes} B` : `${wav.seconds} s`}${wav.chunked ? ", chunked" : ""}\n`);
  const t0 = Date.now();
  let results;
  try {
    results = await runDemo({
      sim,
      worker,
      scenarios,
      overdueAfterSeconds: overdue,
      log,
      ...(vars.CALLBACK_TOKEN ? { callbackToken: vars.CALLBACK_TOKEN } : {}),
      ...(app ? { app, expectAnnouncements: true } : {}),
    });
  } catch (err) {
    process.stderr.write(`demo failed: ${(err as Error).message}\n`);
    await stop();
    return 1;
  }
  await stop();
  const ok = results.every((r) => r.ok);
  process.stdout.write(`\n${formatResults(results)}\n\n`);
  process.stdout.write(`${ok ? "all tasks ended as expected" : "SOME TASKS DID NOT END AS EXPECTED"} (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);

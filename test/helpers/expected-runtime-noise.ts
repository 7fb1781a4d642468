// vitest globalSetup. It runs in vitest's main process, where the workers pool prints workerd's
// log lines (through process.stdout / process.stderr).
//
// Some tests cut an upload to R2 off on purpose (a source that stalls, a body shorter than its
// Content-Length) and assert that no object is left behind. Under the pool, R2 is miniflare's
// local implementation, itself a worker: when the upload body it reads breaks off, its hashing
// stream leaves promises rejected with nobody listening, and workerd prints them as "uncaught
// exception" lines, plus a kj trace for the fixed-length stream that ended early. Nothing in our
// code is uncaught (production R2 is not that worker), so exactly those lines are dropped, and
// one timing note of workerd's (below); every other line, any other uncaught exception
// included, still prints.

const EXPECTED: RegExp[] = [
  /^uncaught exception; source = Uncaught \(in promise\); stack = TypeError: Can't read from request stream because client disconnected\.\s*$/,
  /^uncaught exception; source = Uncaught \(in promise\); stack = Error: Network connection lost\.\s*$/,
  /^exception = kj\/async-io\.c\+\+:\d+: disconnected: fixed-length pipe ended prematurely\nstack:[^\n]*\s*$/,
  // workerd's note that a Durable Object alarm ran a few ms after the time its alarm manager
  // had: timing on a loaded machine, not an error (the alarm runs).
  /^NOSENTRY SQLite alarm overdue, running despite AlarmManager mismatch; scheduledTime = [\d.]+s; localAlarmTime = [\d.]+s; currentTime = [\d.]+s; actorId = [0-9a-f]+\s*$/,
  // ...and its note that an alarm due to run was not run because the object had set another
  // time (or none) meanwhile: what setAlarm/deleteAlarm are for.
  /^NOSENTRY SQLite alarm handler canceled with requestScheduledAlarm\.; scheduledTime = [\d.]+s; localAlarmState\.orDefault\(kj::UNIX_EPOCH\) = \d+ns; actorId = [0-9a-f]+\s*$/,
];

type Write = typeof process.stdout.write;

function filter(stream: NodeJS.WriteStream): () => void {
  const write = stream.write;
  stream.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
    const text = typeof chunk === "string" ? chunk : chunk instanceof Uint8Array ? new TextDecoder().decode(chunk) : null;
    if (text !== null && EXPECTED.some((re) => re.test(text))) {
      (rest.find((r) => typeof r === "function") as (() => void) | undefined)?.();
      return true;
    }
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as Write;
  return () => {
    stream.write = write;
  };
}

export default function setup(): () => void {
  const restore = [filter(process.stdout), filter(process.stderr)];
  return () => restore.forEach((r) => r());
}

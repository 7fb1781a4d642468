// Who listens on a local TCP port, for a one-line message instead of EADDRINUSE's stack. Linux
// only (/proc/net/tcp{,6} name the listening socket's inode, /proc/<pid>/fd links name its
// process); anywhere else, or for another user's process, it says it cannot tell.

import { readdirSync, readFileSync, readlinkSync } from "node:fs";

/** The process listening on `port` ("node test/simulator/main.ts --serve (pid 1234)"), or null when that cannot be told. */
export function portOwner(port: number): string | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const f = row.trim().split(/\s+/);
      // local_address is <hex ip>:<hex port>; state 0A is LISTEN; the inode is the 10th field.
      if (f.length > 9 && f[3] === "0A" && parseInt(f[1]!.split(":")[1] ?? "", 16) === port) inodes.add(f[9]!);
    }
  }
  if (inodes.size === 0) return null;
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1]!)) {
        let command = "";
        try {
          command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
        } catch {
          // keep the pid alone
        }
        return `${shorten(command) || "a process"} (pid ${pid})`;
      }
    }
  }
  return null;
}

/** A command line without the long absolute paths of node and the repository. */
function shorten(command: string): string {
  const cwd = process.cwd();
  const words = command.split(" ").map((w, i) => (i === 0 && /(^|\/)node$/.test(w) ? "node" : w.startsWith(`${cwd}/`) ? w.slice(cwd.length + 1) : w));
  const text = words.join(" ");
  return text.length > 120 ? `${text.slice(0, 117)}…` : text;
}

/** Whether an error is "address already in use". */
export function isAddressInUse(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === "EADDRINUSE";
}

import type { HistoryEntry } from "../../task/history";
import type { TaskView } from "../../task/view";
import { describeEvent, eventTone } from "../history";
import { KIND_WORDS } from "../kinds";
import { FilesSection, type FileContent } from "./files";
import { WaveformFigure } from "./waveform";
import { CsrfField, formatBytes, inProgress, KindBadge, Layout, Notice, StateBadge, Time } from "./layout";

/** Outcomes a redirect may report; anything else shows a generic line (never reflected text). */
export const NOTICES: Record<string, { kind: "ok" | "error"; text: string }> = {
  retried: { kind: "ok", text: "Retry requested: the task has another go now." },
  notified: { kind: "ok", text: "Redelivery requested: the announcement is being sent again." },
  already_stored: { kind: "error", text: "The task is already stored; nothing to retry." },
  notifications_off: { kind: "error", text: "Notifications are off: set NOTIFY_URL and NOTIFY_SECRET first." },
  not_final: { kind: "error", text: "The task is not stored or failed yet; there is nothing to redeliver." },
  gone: { kind: "error", text: "This task no longer exists (it was deleted)." },
};

/** What the notification field says, in words. */
const NOTIFICATION_WORDS: Record<string, string> = {
  off: "off — NOTIFY_URL is not set, so nothing is announced",
  waiting: "waiting — announced once the task is stored or failed",
  pending: "being delivered to your app",
  delivered: "delivered to your app",
  failed: "failed — your app never took it (Redeliver sends it again)",
};

function Detail(props: { name: string; children: unknown }) {
  return (
    <>
      <dt>{props.name}</dt>
      <dd>{props.children as never}</dd>
    </>
  );
}

export function TaskPage(props: {
  csrf: string;
  task: TaskView;
  history: HistoryEntry[] | null;
  link: { url: string; expiresAt: string } | null;
  /** What the page read from the task's own files (midi.json, lyrics.json). */
  content?: FileContent;
  notice?: string;
  now: number;
}) {
  const t = props.task;
  const wav = t.kind === "wav";
  const stored = t.files.filter((f) => f.state === "stored");
  const id = encodeURIComponent(t.taskId);
  const final = t.state === "stored" || t.state === "failed";
  const notice = props.notice ? (NOTICES[props.notice] ?? { kind: "error" as const, text: "The action did not succeed." }) : null;
  return (
    // A task under way refreshes itself (never a stored one: that would stop its player).
    <Layout title={`Task ${t.taskId}`} csrf={props.csrf} nav="tasks" refresh={inProgress(t)}>
      <p class="crumbs">
        <a href="/tasks">← Tasks</a>
      </p>
      <h1 class="task-title">
        <span class="mono">{t.taskId}</span> <StateBadge state={t.state} /> <KindBadge kind={t.kind} />
      </h1>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}

      {t.state === "stored" && t.wav && (
        <section class="card player">
          <h2>Listen</h2>
          <audio id="wav-player" controls preload="metadata" src={`/tasks/${id}/wav`} data-size={String(t.wav.size)}></audio>
          {props.content?.waveform && <WaveformFigure content={props.content.waveform} playerId="wav-player" name={t.files[0]?.name ?? `${t.taskId}.wav`} />}
          <div class="actions">
            <a class="button" href={`/tasks/${id}/wav`} download={`${t.taskId}.wav`}>
              Download WAV
            </a>
            {props.link && (
              <span class="copy">
                <input id="share-link" class="mono" type="text" readonly value={props.link.url} aria-label="Signed download link" />
                <button type="button" data-copy="share-link">
                  Copy link
                </button>
              </span>
            )}
          </div>
          {props.link && (
            <p class="muted small">
              The link works without signing in and expires <Time at={props.link.expiresAt} now={props.now} />.
            </p>
          )}
        </section>
      )}

      <FilesSection task={t} content={props.content ?? {}} />

      <section class="card">
        <h2>Details</h2>
        <dl class="fields">
          <Detail name="State">
            <StateBadge state={t.state} />
          </Detail>
          <Detail name="Kind">{`${KIND_WORDS[t.kind] ?? t.kind} (${t.kind})`}</Detail>
          <Detail name="Created">
            <Time at={t.createdAt} now={props.now} />
          </Detail>
          <Detail name="Updated">
            <Time at={t.updatedAt} now={props.now} />
          </Detail>
          {wav ? (
            <Detail name="Source">
              {t.source ? (
                <span class="mono wrap">{t.source.url}</span>
              ) : (
                <span class="muted">{t.state === "failed" ? "none: the provider never gave a WAV URL" : "not known yet: the provider has not given a WAV URL"}</span>
              )}
            </Detail>
          ) : (
            <Detail name="Files">
              {t.files.length > 0 ? (
                `${stored.length} of ${t.files.length} stored${stored.length ? `, ${formatBytes(stored.reduce((n, f) => n + (f.size ?? 0), 0))} in all` : ""}`
              ) : (
                <span class="muted">{t.state === "failed" ? "none: the provider named no file" : "none yet: the provider has not named any"}</span>
              )}
            </Detail>
          )}
          <Detail name="Transfer attempts">
            {t.source || (!wav && t.files.length > 0) ? String(t.attempts) : <span class="muted">{t.state === "failed" ? "none: there was nothing to fetch" : "none yet"}</span>}
          </Detail>
          {t.nextAttemptAt && inProgress(t) && (
            <Detail name={t.state === "pending" ? "Next poll" : "Next attempt"}>
              <Time at={t.nextAttemptAt} now={props.now} />
            </Detail>
          )}
          {t.wav && (
            <>
              <Detail name="Size">{`${formatBytes(t.wav.size)} (${t.wav.size.toLocaleString("en-US")} bytes)`}</Detail>
              <Detail name="SHA-256">
                <span class="mono wrap">{t.wav.sha256}</span>
              </Detail>
              <Detail name="R2 key">
                <span class="mono wrap">{t.wav.key}</span>
              </Detail>
            </>
          )}
          {t.error && (
            <Detail name={t.state === "failed" ? "Error" : "Last error"}>
              <span class={t.state === "failed" ? "error-text wrap" : "warn-text wrap"}>{`${t.error.code}: ${t.error.message}`}</span>
              {t.state !== "failed" && <span class="muted">{" — being retried"}</span>}
            </Detail>
          )}
          {t.music && <Detail name="Track">{`music task ${t.music.taskId}, audio ${t.music.audioId}`}</Detail>}
          {t.notification && (
            <Detail name="Notification">
              {`${NOTIFICATION_WORDS[t.notification.state] ?? t.notification.state}${t.notification.attempts ? `; ${t.notification.attempts} attempt${t.notification.attempts === 1 ? "" : "s"}` : ""}${t.notification.lastStatus ? `, last answer ${t.notification.lastStatus}` : ""}`}
            </Detail>
          )}
        </dl>
      </section>

      <section class="card">
        <h2>Actions</h2>
        <div class="actions">
          {t.state !== "stored" && (
            <form method="post" action={`/tasks/${id}/retry`} data-confirm={`Retry task ${t.taskId} now?`}>
              <CsrfField token={props.csrf} />
              <button type="submit">Retry</button>
            </form>
          )}
          {/* Without NOTIFY_URL there is nothing to redeliver (the API would answer 409). */}
          {final && t.notification.state !== "off" && (
            <form method="post" action={`/tasks/${id}/notify`} data-confirm={`Send the announcement for ${t.taskId} again?`}>
              <CsrfField token={props.csrf} />
              <button type="submit" class="secondary">
                Redeliver notification
              </button>
            </form>
          )}
          <form method="post" action={`/tasks/${id}/delete`} data-confirm={`Delete task ${t.taskId}? Its ${wav ? "WAV" : "files"}, state and history are removed; this cannot be undone.`}>
            <CsrfField token={props.csrf} />
            <button type="submit" class="danger">
              Delete task
            </button>
          </form>
        </div>
      </section>

      <section class="card">
        <h2>History</h2>
        {props.history === null || props.history.length === 0 ? (
          <p class="muted">No history yet.</p>
        ) : (
          <ol class="timeline">
            {props.history.map((e) => (
              <li data-type={e.type} class={`tone-${eventTone(e)}`}>
                <Time at={e.at} now={props.now} />
                <div class="event-text">{describeEvent(e, props.now, t.kind)}</div>
              </li>
            ))}
          </ol>
        )}
      </section>
    </Layout>
  );
}

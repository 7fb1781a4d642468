// A task's files on its page, each kind the way a person wants it (README, "Dashboard"): music
// as tracks (cover art and a player each), stems as players, the video, cover images, the MIDI as
// a piano roll with its .mid, the lyrics as text. Every file also has its size, sha256 and a
// download link; a file not stored says why in words. Media load through the session-protected
// /tasks/:taskId/files/:name (inline, with Range), never the API's bearer routes.

import type { Child } from "hono/jsx";
import type { FileView, TaskView } from "../../task/view";
import { formatBytes } from "../format";
import { problemInWords } from "../history";
import { pitchName, type PianoRoll } from "../midi";
import type { WaveformContent } from "./waveform";

/** A lyrics.json item, as read for the page. */
export interface LyricsText {
  title: string;
  text: string;
  failed: string | null;
}

/** Content the page reads from the task's own files (midi.json, lyrics.json) before it renders. */
export interface FileContent {
  /** midi.json as a roll; "unreadable" when it is stored but not notes in the documented form. */
  roll?: PianoRoll | "unreadable";
  lyrics?: LyricsText[] | "unreadable";
  /** A stored WAV's waveform, or why there is none (README, "Waveforms"). */
  waveform?: WaveformContent;
}

/** Where the page loads a file from (the dashboard's own route, inline). */
export function fileHref(taskId: string, name: string): string {
  return `/tasks/${encodeURIComponent(taskId)}/files/${encodeURIComponent(name)}`;
}

/** "backing_vocals.mp3" → "Backing vocals". */
function stemLabel(name: string): string {
  const stem = name.replace(/\.[a-z0-9]+$/i, "").replace(/_/g, " ");
  return stem.charAt(0).toUpperCase() + stem.slice(1);
}

/** Why a file is not stored, in words; null for a stored file or one simply not fetched yet. */
function fileProblem(f: FileView): string | null {
  if (f.state === "stored" || !f.error) return null;
  return problemInWords(f.error.code, f.error.message);
}

/** One file: its name, state, size and sha256, its download link, and why it is not stored. */
export function FileRow(props: { taskId: string; file: FileView; label?: string }) {
  const f = props.file;
  const problem = fileProblem(f);
  return (
    <li class="file" data-file={f.name} data-state={f.state}>
      <div class="file-head">
        <span class="mono wrap">{props.label ?? f.name}</span>
        <span class={`badge state-${f.state}`}>{f.state}</span>
        {f.state === "stored" && (
          <a class="file-download" href={fileHref(props.taskId, f.name)} download={f.name}>
            Download
          </a>
        )}
      </div>
      {f.state === "stored" && f.size !== null && (
        <div class="file-meta small">
          {`${formatBytes(f.size)} (${f.size.toLocaleString("en-US")} bytes) · SHA-256 `}
          <span class="mono wrap">{f.sha256 ?? ""}</span>
        </div>
      )}
      {f.state === "failed" && <div class="small error-text wrap">{`Failed: ${problem ?? "for an unknown reason"}.`}</div>}
      {f.state === "waiting" && (
        <div class={`small wrap ${problem ? "warn-text" : "muted"}`}>{problem ? `Being retried: ${problem}.` : "Not stored yet: waiting for its transfer."}</div>
      )}
    </li>
  );
}

function FileList(props: { taskId: string; files: FileView[]; labels?: (f: FileView) => string }) {
  if (props.files.length === 0) return null;
  return (
    <ul class="files">
      {props.files.map((f) => (
        <FileRow taskId={props.taskId} file={f} label={props.labels?.(f)} />
      ))}
    </ul>
  );
}

function Player(props: { taskId: string; file: FileView | undefined; what: string }) {
  const f = props.file;
  if (!f) return null;
  if (f.state !== "stored") return <p class="muted small">{`The ${props.what} plays here once it is stored.`}</p>;
  return <audio controls preload="metadata" src={fileHref(props.taskId, f.name)} data-file={f.name} aria-label={props.what}></audio>;
}

function Section(props: { title: string; id?: string; children: Child }) {
  return (
    <section class="card media" id={props.id ?? "files"}>
      <h2>{props.title}</h2>
      {props.children}
    </section>
  );
}

/** Music: one block per track, in the order the provider listed them — cover art, player, files. */
function MusicFiles(props: { task: TaskView }) {
  const t = props.task;
  const tracks = [...new Set(t.files.map((f) => f.track).filter((x): x is string => x !== null))];
  const loose = t.files.filter((f) => f.track === null);
  return (
    <Section title={tracks.length === 1 ? "Track" : "Tracks"}>
      {tracks.map((track, i) => {
        const files = t.files.filter((f) => f.track === track);
        const audio = files.find((f) => f.role === "audio");
        const image = files.find((f) => f.role === "image");
        return (
          <article class="track" data-track={track}>
            <h3>
              {`Track ${i + 1} `}
              <span class="mono muted small wrap">{track}</span>
            </h3>
            <div class="track-body">
              {image?.state === "stored" ? (
                <img class="art" src={fileHref(t.taskId, image.name)} alt={`Cover art of track ${i + 1}`} data-file={image.name} />
              ) : (
                <div class="art art-missing muted small">{image ? "Cover art not stored yet" : "No cover art"}</div>
              )}
              <div class="track-main">
                <Player taskId={t.taskId} file={audio} what={`track ${i + 1}`} />
                <FileList taskId={t.taskId} files={files} />
              </div>
            </div>
          </article>
        );
      })}
      <FileList taskId={t.taskId} files={loose} />
    </Section>
  );
}

/** Stems: a player per stem. */
function StemFiles(props: { task: TaskView }) {
  const t = props.task;
  return (
    <Section title="Stems">
      <div class="stems">
        {t.files.map((f) => (
          <article class="stem" data-stem={f.name}>
            <h3>{stemLabel(f.name)}</h3>
            {f.contentType.startsWith("audio/") && <Player taskId={t.taskId} file={f} what={`${stemLabel(f.name).toLowerCase()} stem`} />}
            <ul class="files">
              <FileRow taskId={t.taskId} file={f} />
            </ul>
          </article>
        ))}
      </div>
    </Section>
  );
}

function VideoFiles(props: { task: TaskView }) {
  const t = props.task;
  const video = t.files.find((f) => f.role === "video");
  return (
    <Section title="Video">
      {video?.state === "stored" && <video controls preload="metadata" playsinline src={fileHref(t.taskId, video.name)} data-file={video.name}></video>}
      <FileList taskId={t.taskId} files={t.files} />
    </Section>
  );
}

function ImageFiles(props: { task: TaskView }) {
  const t = props.task;
  return (
    <Section title={t.files.length === 1 ? "Cover image" : "Cover images"}>
      <div class="images">
        {t.files.map((f, i) => (
          <figure class="image" data-image={f.name}>
            {f.state === "stored" && f.contentType.startsWith("image/") ? (
              <img src={fileHref(t.taskId, f.name)} alt={`Cover image ${i + 1}`} data-file={f.name} />
            ) : (
              <div class="art-missing muted small">Not stored yet</div>
            )}
            <figcaption>
              <ul class="files">
                <FileRow taskId={t.taskId} file={f} />
              </ul>
            </figcaption>
          </figure>
        ))}
      </div>
    </Section>
  );
}

const round = (n: number) => Math.round(n * 10_000) / 10_000;

/** The notes as a piano roll: server-drawn SVG, time across, pitch up, one colour per instrument. */
export function PianoRollFigure(props: { roll: PianoRoll }) {
  const r = props.roll;
  const rows = r.high - r.low + 1;
  const width = Math.max(r.seconds, 0.001);
  // Tall enough to tell pitches apart, never taller than a screen.
  const height = Math.min(360, Math.max(160, rows * 6));
  const cs: number[] = [];
  for (let p = r.low; p <= r.high; p++) if (p % 12 === 0) cs.push(p);
  const step = r.seconds > 60 ? 10 : r.seconds > 20 ? 5 : 1;
  const marks: number[] = [];
  for (let s = step; s < r.seconds; s += step) marks.push(s);
  const minWidth = width / 2000;
  return (
    <figure class="roll">
      <svg
        class="piano-roll"
        xmlns="http://www.w3.org/2000/svg"
        viewBox={`0 0 ${round(width)} ${rows}`}
        preserveAspectRatio="none"
        height={String(height)}
        role="img"
        aria-label={`Piano roll: ${r.total} notes of ${r.instruments.length} instrument${r.instruments.length === 1 ? "" : "s"} over ${r.seconds.toFixed(1)} s`}
        data-notes={String(r.drawn)}
      >
        {cs.map((p) => (
          <line class="roll-c" x1="0" x2={String(round(width))} y1={String(r.high - p + 1)} y2={String(r.high - p + 1)} vector-effect="non-scaling-stroke" />
        ))}
        {marks.map((s) => (
          <line class="roll-second" x1={String(s)} x2={String(s)} y1="0" y2={String(rows)} vector-effect="non-scaling-stroke" />
        ))}
        {r.instruments.map((inst, i) => (
          <g data-instrument={String(i)} fill={inst.colour}>
            {inst.notes.map((n) => (
              <rect
                x={String(round(n.start))}
                y={String(r.high - n.pitch)}
                width={String(round(Math.max(n.end - n.start, minWidth)))}
                height="1"
                fill-opacity={n.velocity === null ? undefined : String(round(0.45 + 0.55 * Math.min(1, n.velocity > 1 ? n.velocity / 127 : n.velocity)))}
                data-note={String(n.pitch)}
              >
                <title>{`${inst.name}: ${pitchName(n.pitch)} (${n.pitch}), ${n.start.toFixed(2)}–${n.end.toFixed(2)} s`}</title>
              </rect>
            ))}
          </g>
        ))}
      </svg>
      <figcaption class="small muted">
        {`Time across (0 to ${r.seconds.toFixed(1)} s, a line every ${step} s); pitch up (${pitchName(r.low)} to ${pitchName(r.high)}, a line under each C). ${r.total} notes`}
        {r.drawn < r.total ? `, the first ${r.drawn} drawn.` : "."}
      </figcaption>
      <ul class="legend">
        {r.instruments.map((inst, i) => (
          <li data-instrument={String(i)}>
            <svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">
              <rect width="12" height="12" rx="2" fill={inst.colour} />
            </svg>
            {`${inst.name} — ${inst.notes.length} note${inst.notes.length === 1 ? "" : "s"}`}
          </li>
        ))}
      </ul>
    </figure>
  );
}

function MidiFiles(props: { task: TaskView; roll: FileContent["roll"] }) {
  const t = props.task;
  const mid = t.files.find((f) => f.name.endsWith(".mid"));
  return (
    <Section title="MIDI">
      {props.roll === "unreadable" && <p class="warn-text">midi.json is stored, but it holds no notes in the provider's documented form, so there is no piano roll to draw.</p>}
      {props.roll && props.roll !== "unreadable" && <PianoRollFigure roll={props.roll} />}
      {mid?.state === "stored" && (
        <p class="actions">
          <a class="button" href={fileHref(t.taskId, mid.name)} download={mid.name}>
            Download .mid
          </a>
        </p>
      )}
      <FileList taskId={t.taskId} files={t.files} />
    </Section>
  );
}

function LyricsFiles(props: { task: TaskView; lyrics: FileContent["lyrics"] }) {
  const t = props.task;
  return (
    <Section title="Lyrics">
      {props.lyrics === "unreadable" && <p class="warn-text">lyrics.json is stored, but it is not the provider's list of lyrics, so it is not shown here.</p>}
      {Array.isArray(props.lyrics) &&
        props.lyrics.map((l, i) => (
          <article class="lyric" data-lyric={String(i)}>
            <h3>{l.title || `Lyrics ${i + 1}`}</h3>
            {l.failed !== null ? <p class="error-text">{`The provider could not write these: ${l.failed}`}</p> : <p class="lyrics-text">{l.text}</p>}
          </article>
        ))}
      <FileList taskId={t.taskId} files={t.files} />
    </Section>
  );
}

/** The task's files, shown for its kind; null for a WAV task (its own player section shows it). */
export function FilesSection(props: { task: TaskView; content: FileContent }) {
  const t = props.task;
  if (t.kind === "wav") return null;
  if (t.files.length === 0) {
    return (
      <Section title="Files">
        <p class="muted">
          {t.state === "failed"
            ? "None: the provider named no file before the task failed."
            : t.kind === "music"
              ? "None yet: the provider names each track's files as it makes them (first one track, then all)."
              : "None yet: the provider has not said what it made."}
        </p>
      </Section>
    );
  }
  switch (t.kind) {
    case "music":
      return <MusicFiles task={t} />;
    case "stems":
      return <StemFiles task={t} />;
    case "video":
      return <VideoFiles task={t} />;
    case "cover":
      return <ImageFiles task={t} />;
    case "midi":
      return <MidiFiles task={t} roll={props.content.roll} />;
    case "lyrics":
      return <LyricsFiles task={t} lyrics={props.content.lyrics} />;
    default:
      return (
        <Section title="Files">
          <FileList taskId={t.taskId} files={t.files} />
        </Section>
      );
  }
}

/** lyrics.json read for the page; "unreadable" when it is not a list of lyrics. */
export function lyricsOf(json: unknown): LyricsText[] | "unreadable" {
  if (!Array.isArray(json)) return "unreadable";
  const str = (v: unknown) => (typeof v === "string" ? v : "");
  return json.slice(0, 100).map((raw) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const failed = item.status === "failed" ? str(item.errorMessage) || str(item.error_message) || "no reason given" : null;
    return { title: str(item.title).slice(0, 300), text: str(item.text), failed };
  });
}

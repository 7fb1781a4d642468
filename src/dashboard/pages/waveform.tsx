// A WAV's waveform under its player (README, "Waveforms"): server-drawn SVG, one column per bucket
// of the peaks file; dashboard.js moves the play position over it and seeks where it is clicked
// (it reads the data attributes; the page works without it). A file without a waveform says why.

import type { FileView } from "../../task/view";
import { clockTime, type Waveform } from "../waveform";

/** What the page knows of a WAV's waveform: the columns, or why there are none. */
export type WaveformContent = { waveform: Waveform } | { none: string };

/** The SVG's height in user units; the middle line is at half. */
const HEIGHT = 100;
const r1 = (n: number) => Math.round(n * 10) / 10;

/** Why a stored WAV has no waveform, in words (the task JSON's `waveform.reason`, or what happened). */
export function noWaveformReason(file: FileView): string | null {
  if (file.waveform?.available === false) return file.waveform.reason;
  if (file.waveform === undefined) return "this WAV was stored before waveforms were made";
  return null;
}

/** The columns as one path of rectangles: `M<x> <top>h1v<height>h-1z` each (a line where silent). */
function columnsPath(w: Waveform): string {
  const half = HEIGHT / 2;
  const scale = half * 0.96;
  let d = "";
  w.columns.forEach((col, x) => {
    const top = half - col.max * scale;
    const height = Math.max((col.max - col.min) * scale, 0.6);
    d += `M${x} ${r1(Math.min(top, half - 0.3))}h1v${r1(height)}h-1z`;
  });
  return d;
}

export function WaveformFigure(props: { content: WaveformContent; playerId: string; name: string }) {
  if ("none" in props.content) {
    return (
      <p class="no-waveform muted small" data-waveform-none={props.name}>
        {`No waveform: ${props.content.none}.`}
      </p>
    );
  }
  const w = props.content.waveform;
  const columns = w.columns.length;
  const seconds = Math.round(w.seconds * 1000) / 1000;
  return (
    <figure class="waveform">
      <svg
        class="wave"
        xmlns="http://www.w3.org/2000/svg"
        viewBox={`0 0 ${columns} ${HEIGHT}`}
        preserveAspectRatio="none"
        height="96"
        role="slider"
        tabindex="0"
        aria-label={`Waveform of ${props.name}: click or use the arrow keys to seek`}
        aria-valuemin="0"
        aria-valuemax={String(seconds)}
        aria-valuenow="0"
        aria-valuetext="0:00"
        data-waveform={props.name}
        data-player={props.playerId}
        data-columns={String(columns)}
        data-duration={String(seconds)}
      >
        <line class="wave-mid" x1="0" x2={String(columns)} y1={String(HEIGHT / 2)} y2={String(HEIGHT / 2)} vector-effect="non-scaling-stroke" />
        <path class="wave-peaks" d={columnsPath(w)} />
        <rect class="wave-played" x="0" y="0" width="0" height={String(HEIGHT)} />
        <line class="wave-head" x1="0" x2="0" y1="0" y2={String(HEIGHT)} vector-effect="non-scaling-stroke" />
      </svg>
      <figcaption class="small muted">
        {`${columns.toLocaleString("en-US")} columns of ${w.samplesPerPixel.toLocaleString("en-US")} samples each (${((w.samplesPerPixel / w.sampleRate) * 1000).toFixed(1)} ms), 0:00 to ${clockTime(w.seconds)}; the lowest and highest sample of each, over ${w.channels === 1 ? "the one channel" : `all ${w.channels} channels`}. Click to seek.`}
      </figcaption>
    </figure>
  );
}

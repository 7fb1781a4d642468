// The kinds of task in a person's words (README, "What it keeps"): "a music generation task".

export const KIND_WORDS: Record<string, string> = {
  wav: "WAV conversion",
  music: "music generation",
  stems: "stem separation",
  video: "music video",
  cover: "cover image",
  midi: "MIDI",
  lyrics: "lyrics",
};

/** A kind's name as the task list's filter shows it. */
export const KIND_LABELS: Record<string, string> = {
  wav: "WAV",
  music: "music",
  stems: "stems",
  video: "video",
  cover: "cover",
  midi: "MIDI",
  lyrics: "lyrics",
};

// Real WAV files for tests: a RIFF/WAVE header and 16-bit PCM samples of a sine tone.

export function makeWav(opts: { seconds?: number; bytes?: number; sampleRate?: number; seed?: number } = {}): Uint8Array {
  const sampleRate = opts.sampleRate ?? 8000;
  const channels = 1;
  const bytesPerSample = 2;
  const dataBytes =
    opts.bytes !== undefined
      ? Math.max(0, opts.bytes - 44) & ~1
      : Math.round((opts.seconds ?? 0.25) * sampleRate) * channels * bytesPerSample;
  const buf = new Uint8Array(44 + dataBytes);
  const view = new DataView(buf.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  ascii(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * bytesPerSample, true);
  view.setUint16(32, channels * bytesPerSample, true);
  view.setUint16(34, 8 * bytesPerSample, true);
  ascii(36, "data");
  view.setUint32(40, dataBytes, true);
  const freq = 220 + (opts.seed ?? 0) * 10;
  for (let i = 0; i < dataBytes / 2; i++) {
    view.setInt16(44 + i * 2, Math.round(Math.sin((2 * Math.PI * freq * i) / sampleRate) * 12000), true);
  }
  return buf;
}

export async function sha256Hex(bytes: Uint8Array | ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A WAV host's answer: the bytes with the Content-Length a real server sends. */
export function wavResponse(bytes: Uint8Array, headers: Record<string, string> = {}): Response {
  return new Response(bytes, {
    headers: { "content-type": "audio/wav", "content-length": String(bytes.byteLength), ...headers },
  });
}

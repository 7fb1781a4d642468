// A WAV file starts "RIFF" <4-byte size> "WAVE". Checking the first 12 bytes is enough to tell a
// real WAV from an HTML or JSON error page served with status 200.

export const WAV_HEADER_BYTES = 12;

export function looksLikeWav(head: Uint8Array): boolean {
  if (head.byteLength < WAV_HEADER_BYTES) return false;
  const ascii = (from: number) => String.fromCharCode(...head.subarray(from, from + 4));
  // RIFF (little-endian) and RIFX/RF64 (big-endian, >4 GiB) are all WAVE containers.
  return ["RIFF", "RIFX", "RF64"].includes(ascii(0)) && ascii(8) === "WAVE";
}

// The dashboard's icon: a few waveform bars on the header's dark blue. /favicon.svg is what the
// pages link; /favicon.ico answers the browsers (and tools) that ask for that path by habit, with a
// real 16×16 ICO drawn from the same bars, so no page load ends in a 404.

const BG = [0x1d, 0x23, 0x30] as const;
const FG = [0x8f, 0xb0, 0xff] as const;
/** Bar heights on a 16-pixel grid, one bar every other column from x = 3. */
const BARS = [4, 8, 12, 6, 10, 4];

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">
<rect width="16" height="16" rx="3" fill="#1d2330"/>
<g fill="#8fb0ff">${BARS.map((h, i) => `<rect x="${2 + i * 2}" y="${(16 - h) / 2}" width="1.2" height="${h}" rx=".6"/>`).join("")}</g>
</svg>
`;

/** The same picture as a 16×16, 32-bit ICO (one BMP image with its alpha channel). */
function makeIco(): Uint8Array<ArrayBuffer> {
  const size = 16;
  const pixels = size * size * 4;
  const mask = size * 4; // 1 bit per pixel, rows padded to 4 bytes; all 0: alpha decides
  const image = 40 + pixels + mask;
  const out = new Uint8Array(6 + 16 + image);
  const v = new DataView(out.buffer);
  v.setUint16(2, 1, true); // type: icon
  v.setUint16(4, 1, true); // one image
  out[6] = size;
  out[7] = size;
  v.setUint16(10, 1, true); // planes
  v.setUint16(12, 32, true); // bits per pixel
  v.setUint32(14, image, true);
  v.setUint32(18, 22, true); // offset of the image
  const bmp = 22;
  v.setUint32(bmp, 40, true); // BITMAPINFOHEADER
  v.setInt32(bmp + 4, size, true);
  v.setInt32(bmp + 8, size * 2, true); // colour rows + mask rows
  v.setUint16(bmp + 12, 1, true);
  v.setUint16(bmp + 14, 32, true);
  v.setUint32(bmp + 20, pixels + mask, true);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Rounded corners: the pixels outside a radius-3 circle in each corner stay transparent.
      const cx = x < 3 ? 3 : x > 12 ? 12 : x;
      const cy = y < 3 ? 3 : y > 12 ? 12 : y;
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= 9;
      const bar = (x - 2) % 2 === 0 && x >= 2 ? BARS[(x - 2) / 2] : undefined;
      const onBar = bar !== undefined && y >= (size - bar) / 2 && y < (size + bar) / 2;
      const [r, g, b] = onBar ? FG : BG;
      const at = bmp + 40 + ((size - 1 - y) * size + x) * 4; // rows bottom-up, BGRA
      out[at] = b;
      out[at + 1] = g;
      out[at + 2] = r;
      out[at + 3] = inside ? 0xff : 0;
    }
  }
  return out;
}

export const FAVICON_ICO = makeIco();

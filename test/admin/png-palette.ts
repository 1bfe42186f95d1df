// Shrinks a screenshot PNG for the docs: maps its pixels onto a palette of its 255
// most frequent colours (the dashboard is flat colour, so text stays sharp) and
// writes an 8-bit palette PNG at the highest zlib level. Not a test.
import { readFileSync, writeFileSync } from 'node:fs';
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what Chromium writes) into RGB triples. */
function decode(file: Buffer): { width: number; height: number; rgb: Buffer } {
  let at = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (at < file.length) {
    const size = file.readUInt32BE(at);
    const type = file.toString('latin1', at + 4, at + 8);
    const body = file.subarray(at + 8, at + 8 + size);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      if (body[8] !== 8 || body[12] !== 0) throw new Error('only 8-bit non-interlaced PNGs');
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0;
      if (channels === 0) throw new Error('only RGB or RGBA PNGs');
    } else if (type === 'IDAT') idat.push(body);
    at += size + 12;
  }
  const data = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const rgb = Buffer.alloc(width * height * 3);
  let prior = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const kind = data[y * (stride + 1)]!;
    const row = Buffer.from(data.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0;
      const b = prior[i]!;
      const c = i >= channels ? prior[i - channels]! : 0;
      let add = 0;
      if (kind === 1) add = a;
      else if (kind === 2) add = b;
      else if (kind === 3) add = (a + b) >> 1;
      else if (kind === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      row[i] = (row[i]! + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      // Screenshots are opaque: alpha is ignored.
      row.copy(rgb, (y * width + x) * 3, x * channels, x * channels + 3);
    }
    prior = row;
  }
  return { width, height, rgb };
}

/** Rewrites `path` as a palette PNG. */
export function paletteize(path: string): void {
  const { width, height, rgb } = decode(readFileSync(path));
  const counts = new Map<number, number>();
  for (let i = 0; i < rgb.length; i += 3) {
    const key = (rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const palette = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 256)
    .map(([k]) => k);
  const nearest = new Map<number, number>();
  const indexOf = (key: number): number => {
    let best = nearest.get(key);
    if (best !== undefined) return best;
    let bestDist = Number.POSITIVE_INFINITY;
    const r = key >> 16;
    const g = (key >> 8) & 255;
    const b = key & 255;
    for (let i = 0; i < palette.length; i++) {
      const p = palette[i]!;
      const d = ((p >> 16) - r) ** 2 + (((p >> 8) & 255) - g) ** 2 + ((p & 255) - b) ** 2;
      if (d < bestDist) {
        bestDist = d;
        best = i;
      }
    }
    nearest.set(key, best!);
    return best!;
  };
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      raw[y * (width + 1) + 1 + x] = indexOf((rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 3;
  const plte = Buffer.alloc(palette.length * 3);
  palette.forEach((p, i) => {
    plte[i * 3] = p >> 16;
    plte[i * 3 + 1] = (p >> 8) & 255;
    plte[i * 3 + 2] = p & 255;
  });
  writeFileSync(
    path,
    Buffer.concat([
      SIGNATURE,
      chunk('IHDR', ihdr),
      chunk('PLTE', plte),
      chunk('IDAT', deflateSync(raw, { level: 9 })),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

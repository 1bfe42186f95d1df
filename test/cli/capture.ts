import type { ToolIO } from '../../src/cli/tool-io.js';

/** In-memory stdout/stderr for running a tool in-process. */
export function capture(
  extra: Partial<ToolIO> = {},
): ToolIO & { out(): string; err(): string; outBytes(): Buffer } {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  return {
    ...extra,
    stdout: { write: (c: string | Uint8Array) => out.push(Buffer.from(c)) },
    stderr: { write: (c: string | Uint8Array) => err.push(Buffer.from(c)) },
    out: () => Buffer.concat(out).toString(),
    err: () => Buffer.concat(err).toString(),
    outBytes: () => Buffer.concat(out),
  };
}

/** Reading the payload that `heron pub` and `heron rr` send (-m, -f, -s, -n). */
import { readFileSync } from 'node:fs';
import type { MessageSource } from './client-args.js';

/** All of a stream as one Buffer (for -s). */
function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer | string) => chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c)));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

/**
 * The one payload a source names; undefined for -l, whose lines are read one by one
 * by the caller. Rejects when the file or stream cannot be read.
 */
export async function readPayload(
  source: MessageSource,
  stdin: NodeJS.ReadableStream,
): Promise<Buffer | undefined> {
  switch (source.kind) {
    case 'message':
      return source.payload;
    case 'null':
      return Buffer.alloc(0);
    case 'file':
      return readFileSync(source.path);
    case 'stdin':
      return readAll(stdin);
    case 'lines':
      return undefined;
  }
}

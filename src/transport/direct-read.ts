/**
 * Reads of plain TCP sockets into one shared buffer, handed to a function
 * directly: Node's `onread` socket option, which it offers for sockets it
 * connects but not for those a server accepts.
 *
 * Why: a stream read costs Node a fresh 64 KB ArrayBuffer, a Buffer over it and
 * the Readable machinery (push, its buffer bookkeeping, a `data` event) per
 * read callback. With clients that write every packet on its own, that is once
 * or twice per message. With `onread` the kernel's bytes land in the shared
 * buffer and the function sees them at once; whoever keeps any of them past
 * the call must copy them (the decoder does, see `Decoder.reusedInput`).
 *
 * An accepted socket is switched the way Node's own constructor sets `onread`
 * up: its two `onread` fields (found by name on a socket made with the option)
 * and the handle told to read into the buffer. Where that is not possible (a
 * Node without those fields, TLS, a socket that already holds unread data),
 * the socket stays a stream and `directReads` says so.
 */
import net from 'node:net';
import tls from 'node:tls';

/** Called with the bytes of one read, valid only during the call; return false to stop reading. */
export type ReadCallback = (this: net.Socket, bytes: number, buffer: Buffer) => boolean;

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
}

/** Shared by every socket: a read callback runs to its end before the next read. */
let shared: Buffer | undefined;
let fields: OnreadFields | null | undefined;

function onreadFields(): OnreadFields | null {
  if (fields !== undefined) return fields;
  // @types/node lists `onread` for connect() only; the constructor takes it too.
  const options = { onread: { buffer: Buffer.alloc(1), callback: () => true } };
  const probe = new net.Socket(options as net.SocketConstructorOpts);
  const own = Object.getOwnPropertySymbols(probe);
  const buffer = own.find((s) => s.description === 'kBuffer');
  const callback = own.find((s) => s.description === 'kBufferCb');
  const p = probe as unknown as Record<symbol, unknown>;
  fields =
    buffer !== undefined && callback !== undefined && Buffer.isBuffer(p[buffer])
      ? { buffer, callback }
      : null;
  probe.destroy();
  return fields;
}

interface UserBufferHandle {
  useUserBuffer(buffer: Uint8Array): void;
}

/**
 * Switches a plain TCP socket (before or between reads, from the code that
 * accepted it) to reading into the shared buffer and calling `callback` (with
 * the socket as `this`). Returns false, changing nothing, where that is not possible.
 */
export function directReads(socket: unknown, callback: ReadCallback): boolean {
  if (!(socket instanceof net.Socket) || socket instanceof tls.TLSSocket) return false;
  if (socket.readableLength > 0 || socket.destroyed) return false;
  const handle = (socket as unknown as { _handle?: Partial<UserBufferHandle> | null })._handle;
  if (handle == null || typeof handle.useUserBuffer !== 'function') return false;
  const f = onreadFields();
  if (f === null) return false;
  shared ??= Buffer.allocUnsafe(64 * 1024);
  const s = socket as unknown as Record<symbol, unknown>;
  s[f.buffer] = shared;
  s[f.callback] = callback;
  handle.useUserBuffer(shared);
  return true;
}

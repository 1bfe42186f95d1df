/**
 * Types for Buffer's internal string codecs. They are undocumented but have been
 * stable since Node 0.x and are what `toString`/`write` call after their
 * argument handling; the codec calls them directly on its hot paths.
 */
declare global {
  interface Buffer {
    /** Decodes bytes [start, end) as latin1 (used for strings already checked to be ASCII). */
    latin1Slice(start: number, end: number): string;
    /** Decodes bytes [start, end) as UTF-8. */
    utf8Slice(start: number, end: number): string;
    /** Writes `s` as latin1 at `offset` (used for strings known to be ASCII); returns the bytes written. */
    latin1Write(s: string, offset: number): number;
    /** Writes `s` as UTF-8 at `offset`; returns the bytes written. */
    utf8Write(s: string, offset: number): number;
  }
}

// Makes this file a module, which `declare global` requires; it exports nothing.
export {};

/** The hash-check queue is full: the CONNECT is refused with "server unavailable" instead of waiting. */
export class HashQueueFullError extends Error {
  constructor(queued: number) {
    super(`${queued} password checks already waiting; refusing to queue more`);
    this.name = 'HashQueueFullError';
  }
}

/** Password checks running at once by default: half of libuv's 4 threads, leaving fs and DNS the rest. */
const DEFAULT_HASH_CONCURRENCY = 2;
/** Password checks waiting by default; a storm beyond this is refused rather than queued without limit. */
const DEFAULT_HASH_QUEUE = 256;

/**
 * Bounds the password-hash checks in flight. PBKDF2 runs on libuv's thread
 * pool (4 threads shared with fs and DNS) and bcryptjs on the main thread, so
 * a storm of CONNECTs with wrong passwords for a real user would otherwise
 * occupy every thread. At most `concurrency` checks run; up to `queueLimit`
 * wait in order; more reject with HashQueueFullError.
 */
export class HashLimiter {
  readonly concurrency: number;
  readonly queueLimit: number;
  /** Checks running now. */
  active = 0;
  /** Most checks ever running at once (for tests and monitoring). */
  peak = 0;
  /** Checks refused because the queue was full. */
  refused = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(concurrency = DEFAULT_HASH_CONCURRENCY, queueLimit = DEFAULT_HASH_QUEUE) {
    this.concurrency = Math.max(1, concurrency);
    this.queueLimit = Math.max(0, queueLimit);
  }

  /** Checks waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `check` once a slot is free; rejects with HashQueueFullError when too many already wait. */
  async run<T>(check: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.queueLimit) {
        this.refused++;
        throw new HashQueueFullError(this.waiting.length);
      }
      // The finishing check hands its slot over directly (active stays counted), so none can jump the queue.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    if (this.active > this.peak) this.peak = this.active;
    try {
      return await check();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}

/**
 * The process-wide limiter: the thread pool is shared by every backend, so
 * every database backend shares one bound.
 */
export const sharedHashLimiter = new HashLimiter();

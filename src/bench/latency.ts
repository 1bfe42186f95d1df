/**
 * Latency histogram with ~1.5% resolution from 1 µs to over an hour, recorded in
 * constant time with no allocation: values are kept in log-linear buckets
 * (64 sub-buckets per power of two), the HDR histogram idea in a few lines.
 */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
const BUCKETS = 40 * SUB;

/** Records latencies (milliseconds, as doubles) and answers percentiles. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  /** Number of values recorded. */
  count = 0;
  /** Largest value recorded, in ms. */
  max = 0;
  private sum = 0;

  /** Records one latency in milliseconds (negative values count as 0). */
  record(ms: number): void {
    const us = ms > 0 ? Math.floor(ms * 1000) : 0;
    this.counts[bucketOf(us)]++;
    this.count++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  /** Mean latency in ms (0 when empty). */
  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The p-th percentile (0..100) in ms; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil((p / 100) * this.count);
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(upperOf(i) / 1000, this.max);
    }
    return this.max;
  }

  /** Forgets everything recorded (end of warm-up). */
  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
    this.sum = 0;
  }
}

/** Bucket of a value in µs: exact below 128, then 64 linear steps per power of two. */
function bucketOf(us: number): number {
  if (us < 2 * SUB) return us;
  if (us > 0xffffffff) return BUCKETS - 1;
  const shift = 31 - Math.clz32(us) - SUB_BITS;
  const i = shift * SUB + Math.floor(us / 2 ** shift);
  return i < BUCKETS ? i : BUCKETS - 1;
}

/** Largest µs value falling into bucket i. */
function upperOf(i: number): number {
  if (i < 2 * SUB) return i;
  const shift = Math.floor(i / SUB) - 1;
  return (i - shift * SUB + 1) * 2 ** shift - 1;
}

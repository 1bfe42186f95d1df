/** The cluster cannot be joined (Redis unreachable or refusing). */
export class ClusterError extends Error {
  override readonly name = 'ClusterError';

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
  }
}

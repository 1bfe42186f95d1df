/**
 * A request the admin API refuses: carries the HTTP status and the message
 * sent back as `{ "error": message }`.
 */
export class HttpError extends Error {
  /** HTTP status code to answer with. */
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}

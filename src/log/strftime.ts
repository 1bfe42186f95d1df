import { strftime as conversion } from '../client/format.js';

/**
 * Formats a date for log_timestamp_format: each `%X` goes through the same
 * strftime(3) conversions the client tools' `@X` output uses (local time); an
 * unknown one is kept as written.
 */
export function strftime(format: string, d: Date): string {
  return format.replace(/%([a-zA-Z%])/g, (_m, c: string) => conversion(c, d));
}

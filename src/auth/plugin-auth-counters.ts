import type { PluginAuthSink, PluginAuthStats } from './plugin-auth.js';

/**
 * A built-in auth backend's counters, also counted into the broker's stats once
 * `countInto` names them (both backends count the same two things).
 */
export class PluginAuthCounters implements PluginAuthStats {
  errors = 0;
  unavailable = 0;
  private sink: PluginAuthSink | undefined;

  /** Counts into the broker's stats from now on. */
  countInto(target: PluginAuthSink): void {
    this.sink = target;
  }

  /** A lookup failed (backend unreachable, broken query or answer). */
  error(): void {
    this.errors++;
    if (this.sink !== undefined) this.sink.authBackendErrors++;
  }

  /** A CONNECT was refused "server unavailable": the backend could not answer. */
  refused(): void {
    this.unavailable++;
    if (this.sink !== undefined) this.sink.authBackendUnavailable++;
  }
}

import type { Logger } from 'pino';
import type { BrokerHooks } from '../broker/options.js';
import type { PluginAuthSettings } from './plugin-options.js';

/** Counters a built-in backend keeps (what `$SYS`-style monitoring would want). */
export interface PluginAuthStats {
  /** Lookups that failed (database or web service unreachable, broken query or answer). */
  errors: number;
  /** CONNECTs refused with "server unavailable" because the backend could not answer. */
  unavailable: number;
}

/** Where a backend's counts also go: the broker's stats. */
export interface PluginAuthSink {
  authBackendErrors: number;
  authBackendUnavailable: number;
}

/**
 * A built-in backend standing in for an `auth_plugin` (mosquitto-auth-plug,
 * mosquitto-go-auth) as broker hooks, plus its lifecycle.
 */
export interface PluginAuth {
  /** Pass as BrokerOptions.hooks. */
  readonly hooks: BrokerHooks;
  /** What the plugin options said. */
  readonly settings: PluginAuthSettings;
  /** Its counters (the broker's, once `countInto` was called). */
  readonly stats: PluginAuthStats;
  /** Counts into the broker's stats from now on (metrics, admin API). */
  countInto(target: PluginAuthSink): void;
  /** Where the backend asks, for the startup log line ("database mqtt at host:3306"). */
  readonly target: string;
  /** Sets the logger (the CLI creates it after the options). */
  setLogger(log: Logger | undefined): void;
  /** Closes connections and timers. */
  close(): Promise<void>;
}

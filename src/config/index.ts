/** Heron's configuration layer: mosquitto.conf parsing and broker flags, one typed result. */
export { type BrokerArgs, parseBrokerArgs, resolveConfig } from './args.js';
export { ConfigError } from './config-error.js';
export { defaultConfig } from './defaults.js';
export { listenerSecurity, listenerSummary } from './listener-info.js';
export { loadConfigFile, type ParseOptions, parseConfigText } from './parse.js';
export type * from './types.js';

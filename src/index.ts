/** Heron's public API: the MQTT codec today; the broker, client and config grow here. */
export * from './protocol/constants.js';
export * from './protocol/errors.js';
export type * from './protocol/packets.js';
export * from './protocol/properties.js';

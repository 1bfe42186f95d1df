/** Heron's public API: the MQTT codec today; the broker, client and config grow here. */
export * from './protocol/index.js';

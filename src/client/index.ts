/** Heron's MQTT client: connect(), MqttClient and their option and error types. */
export * from './client.js';
export * from './errors.js';
export * from './options.js';

/** The protocol layer: packet types, reason codes, properties, topic rules, decoder and encoder. */
export * from './constants.js';
export * from './decoder.js';
export * from './encoder.js';
export * from './errors.js';
export type * from './packets.js';
export * from './properties.js';
export * from './topic.js';

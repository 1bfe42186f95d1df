/** Mosquitto-compatible outgoing bridges: start the `connection` blocks of a configuration. */
import type { Logger } from 'pino';
import type { Broker } from '../broker/broker.js';
import type { BridgeConfig } from '../config/types.js';
import { Bridge, type BridgeTuning } from './bridge.js';

export {
  Bridge,
  type BridgeProblem,
  type BridgeState,
  type BridgeStats,
  type BridgeTuning,
} from './bridge.js';

/** A started bridge, as handed back by {@link startBridges}. */
export interface BridgeHandle {
  readonly bridge: Bridge;
  /** Disconnects for good and removes the bridge's local subscriptions. */
  stop(): Promise<void>;
}

/**
 * Starts one bridge per `connection` block (call after `broker.listen()`, so the
 * local side is ready); stop them before `broker.close()`.
 */
export function startBridges(
  broker: Broker,
  configs: readonly BridgeConfig[],
  log?: Logger,
  tuning?: BridgeTuning,
): BridgeHandle[] {
  return configs.map((cfg) => {
    const bridge = new Bridge(broker, cfg, log, tuning);
    bridge.start();
    return { bridge, stop: () => bridge.stop() };
  });
}

/** Stops every bridge of a list, in parallel. */
export async function stopBridges(handles: readonly BridgeHandle[]): Promise<void> {
  await Promise.all(handles.map((h) => h.stop()));
}

import { type AdminOptions, type AdminServer, startAdmin } from '../admin/server.js';
import { UsersFileError } from '../admin/users-file.js';
import type { BridgeHandle } from '../bridge/index.js';
import type { Broker } from '../broker/broker.js';
import { ConfigError } from '../config/config-error.js';
import type { AdminConfig } from '../config/types.js';

/**
 * The admin server a configuration asks for. `bridges` is the array the caller
 * fills with started bridges and stops at shutdown: the bridges page reads it
 * and a restart from the page replaces its entry in place.
 */
function adminOptionsFromConfig(a: AdminConfig, bridges: BridgeHandle[]): AdminOptions {
  return {
    port: a.port,
    host: a.bindAddress,
    token: a.token,
    usersFile: a.usersFile,
    latencyProbe:
      a.latencyProbe === undefined
        ? undefined
        : { url: a.latencyProbe.url, intervalMs: a.latencyProbe.intervalSeconds * 1000 },
    bridges,
  };
}

/** Starts the configured admin server; a bad users file is a ConfigError at the line that named it. */
export async function startAdminFromConfig(
  broker: Broker,
  a: AdminConfig,
  bridges: BridgeHandle[],
): Promise<AdminServer> {
  try {
    return await startAdmin(broker, adminOptionsFromConfig(a, bridges));
  } catch (e) {
    if (!(e instanceof UsersFileError)) throw e;
    throw new ConfigError(e.message, { ...a.usersFileSource, option: 'admin_users_file' });
  }
}

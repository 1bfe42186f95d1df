import type { Logger } from 'pino';
import { createDatabaseAuth } from './database-auth.js';
import { createHttpAuth } from './http-auth.js';
import { HttpAuthBackend } from './http-auth-backend.js';
import { MysqlAuthBackend } from './mysql-backend.js';
import type { PluginAuth } from './plugin-auth.js';
import type { PluginAuthSettings } from './plugin-options.js';

// Apart from plugin-auth.ts so that the backends, which implement PluginAuth,
// and this factory, which picks one, do not import each other.

/** The backend the settings name, ready to use (it connects lazily). */
export function createPluginAuth(settings: PluginAuthSettings, logger?: Logger): PluginAuth {
  if (settings.backend === 'http')
    return createHttpAuth(settings, new HttpAuthBackend(settings), logger);
  return createDatabaseAuth(settings, new MysqlAuthBackend(settings), logger);
}

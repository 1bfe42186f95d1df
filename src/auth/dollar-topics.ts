import { type AclAccess, aclMatchesTopic } from './acl-topic.js';

const BRIDGE_STATE = '$SYS/broker/connection/+/state';

/**
 * The fixed rules Mosquitto applies to `$` topics before any ACL file or plugin:
 * clients never publish into `$SYS` (except a bridge's
 * `$SYS/broker/connection/<name>/state`) and `$share...` is only ever a
 * subscription filter, never a topic to read or write. Returns false when these
 * rules deny; true means "up to the ACL, if any".
 */
export function dollarTopicAllowed(topic: string, access: AclAccess): boolean {
  if (topic.charCodeAt(0) !== 36 /* $ */) return true;
  if (topic.startsWith('$SYS')) {
    return access !== 'write' || aclMatchesTopic(BRIDGE_STATE, topic);
  }
  if (topic.startsWith('$share')) return access === 'subscribe';
  return true;
}

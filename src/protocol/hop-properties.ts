/** Properties that belong to one network hop and must not travel with a forwarded message. */
import type { Properties } from './properties.js';

/**
 * A PUBLISH's properties fit to forward: without the Topic Alias (per connection)
 * and Subscription Identifiers (per subscriber). Returns the same object when there
 * is nothing to strip (no copy on the common path), undefined when nothing is left.
 */
export function forwardableProperties(props: Properties | undefined): Properties | undefined {
  if (
    props === undefined ||
    (props.topicAlias === undefined && props.subscriptionIdentifiers === undefined)
  ) {
    return props;
  }
  const rest = { ...props };
  delete rest.topicAlias;
  delete rest.subscriptionIdentifiers;
  return Object.keys(rest).length === 0 ? undefined : rest;
}

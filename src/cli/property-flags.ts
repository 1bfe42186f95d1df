/** `-D command identifier value`: v5 properties given on the client tools' command lines. */
import { PacketType } from '../protocol/constants.js';
import {
  PROPERTY_DEFINITIONS,
  type Properties,
  type PropertyDefinition,
  WILL_PROPERTIES,
} from '../protocol/properties.js';
import { parseIntFlag, UsageError } from './tool-flags.js';

/** v5 properties given with -D, per packet. */
export interface ToolProperties {
  connect?: Properties;
  publish?: Properties;
  subscribe?: Properties;
  unsubscribe?: Properties;
  disconnect?: Properties;
  will?: Properties;
}
/** Names of -D property identifiers: kebab-case of the property, singular for repeatable lists. */
function cliPropertyName(def: PropertyDefinition): string {
  if (def.name === 'userProperties') return 'user-property';
  if (def.name === 'subscriptionIdentifiers') return 'subscription-identifier';
  return def.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

const PROPERTY_BY_CLI_NAME = new Map(PROPERTY_DEFINITIONS.map((d) => [cliPropertyName(d), d]));

const PROPERTY_COMMANDS: Record<string, { key: keyof ToolProperties; packet: number }> = {
  connect: { key: 'connect', packet: PacketType.CONNECT },
  publish: { key: 'publish', packet: PacketType.PUBLISH },
  subscribe: { key: 'subscribe', packet: PacketType.SUBSCRIBE },
  unsubscribe: { key: 'unsubscribe', packet: PacketType.UNSUBSCRIBE },
  disconnect: { key: 'disconnect', packet: PacketType.DISCONNECT },
  will: { key: 'will', packet: WILL_PROPERTIES },
};

/** Applies one `-D command identifier value [value]`; returns how many extra args it used. */
export function addProperty(props: ToolProperties, args: string[], i: number): number {
  const command = args[i + 1];
  const ident = args[i + 2];
  const value = args[i + 3];
  if (command === undefined || ident === undefined || value === undefined) {
    throw new UsageError('-D argument given but not enough arguments.');
  }
  const cmd = PROPERTY_COMMANDS[command.toLowerCase()];
  if (cmd === undefined) throw new UsageError(`Invalid command '${command}' given in -D.`);
  const def = PROPERTY_BY_CLI_NAME.get(ident.toLowerCase());
  if (def === undefined)
    throw new UsageError(`Invalid property identifier '${ident}' given in -D.`);
  if (!def.packets.includes(cmd.packet)) {
    throw new UsageError(`${ident} property not allowed for ${command} in -D.`);
  }
  const target = (props[cmd.key] ??= {}) as Record<string, unknown>;
  if (def.type === 'utf8pair') {
    const second = args[i + 4];
    if (second === undefined) throw new UsageError('-D argument given but not enough arguments.');
    (
      (target[def.name] as Array<[string, string]> | undefined) ??
      ((target[def.name] = [] as Array<[string, string]>) as Array<[string, string]>)
    ).push([value, second]);
    return 4;
  }
  if (def.type === 'utf8') target[def.name] = value;
  else if (def.type === 'binary') target[def.name] = Buffer.from(value);
  else {
    const max = def.type === 'byte' ? 0xff : def.type === 'uint16' ? 0xffff : 0xffffffff;
    const n = parseIntFlag(`-D ${command} ${ident}`, value, 0, max);
    if (def.repeatable) ((target[def.name] as number[] | undefined) ??= []).push(n);
    else target[def.name] = n;
  }
  return 3;
}

import { ReasonCode } from '../protocol/constants.js';

const NAMES = new Map<number, string>();
for (const [name, code] of Object.entries(ReasonCode)) {
  // Words from the constant name: "PacketIdentifierInUse" -> "packet identifier in use".
  if (code >= 0x80 && !NAMES.has(code))
    NAMES.set(code, name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase());
}

/** A human-readable v5 Reason String for an error reason code (for acks and DISCONNECT). */
export function reasonString(code: number): string | undefined {
  return NAMES.get(code);
}

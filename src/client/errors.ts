/** Errors raised by the MQTT client; each carries what a caller needs to react. */

/** The server refused the connection; `reasonCode` is the CONNACK code (v3 return code or v5 reason). */
export class ConnackError extends Error {
  /** CONNACK return code (3.1/3.1.1) or reason code (5.0). */
  readonly reasonCode: number;
  constructor(reasonCode: number, message: string) {
    super(message);
    this.name = 'ConnackError';
    this.reasonCode = reasonCode;
  }
}

/** The server answered a PUBLISH with a failure reason code (v5 PUBACK/PUBREC >= 0x80). */
export class PublishError extends Error {
  /** v5 reason code of the PUBACK or PUBREC. */
  readonly reasonCode: number;
  constructor(reasonCode: number, message: string) {
    super(message);
    this.name = 'PublishError';
    this.reasonCode = reasonCode;
  }
}

/** An operation could not complete because the client was ended (or never connected). */
export class ClientClosedError extends Error {
  constructor(message = 'client is closed') {
    super(message);
    this.name = 'ClientClosedError';
  }
}

/** No CONNACK arrived within `connectTimeout`, or a ping went unanswered. */
export class ClientTimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClientTimeoutError';
  }
}

/** Readable text for a CONNACK code of the given version (mosquitto tools print these). */
export function connackMessage(code: number, version: number): string {
  if (version < 5) {
    switch (code) {
      case 1:
        return 'Connection Refused: unacceptable protocol version';
      case 2:
        return 'Connection Refused: identifier rejected';
      case 3:
        return 'Connection Refused: broker unavailable';
      case 4:
        return 'Connection Refused: bad user name or password';
      case 5:
        return 'Connection Refused: not authorised';
      default:
        return `Connection Refused: unknown reason (${code})`;
    }
  }
  return `Connection Refused: ${reasonCodeText(code)}`;
}

const REASON_TEXT: Record<number, string> = {
  0x80: 'Unspecified error',
  0x81: 'Malformed Packet',
  0x82: 'Protocol Error',
  0x83: 'Implementation specific error',
  0x84: 'Unsupported Protocol Version',
  0x85: 'Client Identifier not valid',
  0x86: 'Bad User Name or Password',
  0x87: 'Not authorized',
  0x88: 'Server unavailable',
  0x89: 'Server busy',
  0x8a: 'Banned',
  0x8b: 'Server shutting down',
  0x8c: 'Bad authentication method',
  0x8d: 'Keep Alive timeout',
  0x8e: 'Session taken over',
  0x8f: 'Topic Filter invalid',
  0x90: 'Topic Name invalid',
  0x91: 'Packet Identifier in use',
  0x92: 'Packet Identifier not found',
  0x93: 'Receive Maximum exceeded',
  0x94: 'Topic Alias invalid',
  0x95: 'Packet too large',
  0x96: 'Message rate too high',
  0x97: 'Quota exceeded',
  0x98: 'Administrative action',
  0x99: 'Payload format invalid',
  0x9a: 'Retain not supported',
  0x9b: 'QoS not supported',
  0x9c: 'Use another server',
  0x9d: 'Server moved',
  0x9e: 'Shared Subscriptions not supported',
  0x9f: 'Connection rate exceeded',
  0xa0: 'Maximum connect time',
  0xa1: 'Subscription Identifiers not supported',
  0xa2: 'Wildcard Subscriptions not supported',
};

/** Name of a v5 reason code >= 0x80, for error messages. */
export function reasonCodeText(code: number): string {
  return REASON_TEXT[code] ?? `reason code 0x${code.toString(16)}`;
}

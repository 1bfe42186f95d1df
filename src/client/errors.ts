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
  128: 'Unspecified error',
  129: 'Malformed Packet',
  130: 'Protocol Error',
  131: 'Implementation specific error',
  132: 'Unsupported Protocol Version',
  133: 'Client Identifier not valid',
  134: 'Bad User Name or Password',
  135: 'Not authorized',
  136: 'Server unavailable',
  137: 'Server busy',
  138: 'Banned',
  139: 'Server shutting down',
  140: 'Bad authentication method',
  141: 'Keep Alive timeout',
  142: 'Session taken over',
  143: 'Topic Filter invalid',
  144: 'Topic Name invalid',
  145: 'Packet Identifier in use',
  146: 'Packet Identifier not found',
  147: 'Receive Maximum exceeded',
  148: 'Topic Alias invalid',
  149: 'Packet too large',
  150: 'Message rate too high',
  151: 'Quota exceeded',
  152: 'Administrative action',
  153: 'Payload format invalid',
  154: 'Retain not supported',
  155: 'QoS not supported',
  156: 'Use another server',
  157: 'Server moved',
  158: 'Shared Subscriptions not supported',
  159: 'Connection rate exceeded',
  160: 'Maximum connect time',
  161: 'Subscription Identifiers not supported',
  162: 'Wildcard Subscriptions not supported',
};

/** Name of a v5 reason code >= 0x80, for error messages. */
export function reasonCodeText(code: number): string {
  return REASON_TEXT[code] ?? `reason code 0x${code.toString(16)}`;
}

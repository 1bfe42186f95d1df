// A small MQTT 3.1.1 client over WebSocket for the dashboard's client tool:
// CONNECT, SUBSCRIBE, PUBLISH at QoS 0/1/2 both ways, keep alive. No dependencies.

const enc = new TextEncoder();
const dec = new TextDecoder();

function str(s) {
  const b = enc.encode(s);
  return [b.length >> 8, b.length & 255, ...b];
}

function remaining(n) {
  const out = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 128;
    out.push(byte);
  } while (n > 0);
  return out;
}

function packet(first, body) {
  return new Uint8Array([first, ...remaining(body.length), ...body]);
}

/** An MQTT 3.1.1 connection; events: onmessage(topic, text, qos, retain), onclose(reason). */
export class MqttWs {
  constructor() {
    this.nextId = 1;
    this.pending = new Map();
    this.buffer = new Uint8Array(0);
    this.onmessage = () => {};
    this.onclose = () => {};
  }

  /** Opens the socket and completes CONNECT; rejects with the CONNACK code or socket error. */
  connect(url, { clientId, username, password, keepalive = 30 }) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, 'mqtt');
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      this.connack = { resolve, reject };
      ws.onopen = () => {
        let flags = 0x02;
        const payload = [...str(clientId)];
        if (username) {
          flags |= 0x80;
          payload.push(...str(username));
          if (password) {
            flags |= 0x40;
            payload.push(...str(password));
          }
        }
        ws.send(
          packet(0x10, [...str('MQTT'), 4, flags, keepalive >> 8, keepalive & 255, ...payload]),
        );
        this.ping = setInterval(() => ws.send(new Uint8Array([0xc0, 0])), keepalive * 500);
      };
      ws.onmessage = (ev) => this.feed(new Uint8Array(ev.data));
      ws.onerror = () => reject(new Error(`cannot open ${url}`));
      ws.onclose = (ev) => {
        clearInterval(this.ping);
        for (const p of this.pending.values()) p.reject(new Error('connection closed'));
        this.pending.clear();
        this.connack?.reject(new Error(`connection closed (${ev.code})`));
        this.onclose(ev.reason || `closed (${ev.code})`);
      };
    });
  }

  /** Subscribes; resolves to the granted QoS (0x80: refused). */
  subscribe(filter, qos) {
    const id = this.id();
    this.ws.send(packet(0x82, [id >> 8, id & 255, ...str(filter), qos]));
    return this.wait(id);
  }

  /** Publishes; QoS 1/2 resolve once acknowledged. */
  publish(topic, text, qos, retain = false) {
    const body = [...str(topic)];
    let id = 0;
    if (qos > 0) {
      id = this.id();
      body.push(id >> 8, id & 255);
    }
    body.push(...enc.encode(text));
    this.ws.send(packet(0x30 | (qos << 1) | (retain ? 1 : 0), body));
    return qos > 0 ? this.wait(id) : Promise.resolve();
  }

  /** Sends DISCONNECT and closes. */
  end() {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(new Uint8Array([0xe0, 0]));
    this.ws?.close();
  }

  id() {
    const id = this.nextId;
    this.nextId = (this.nextId % 65535) + 1;
    return id;
  }

  wait(id) {
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  settle(id, value) {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    p.resolve(value);
  }

  feed(chunk) {
    const all = new Uint8Array(this.buffer.length + chunk.length);
    all.set(this.buffer);
    all.set(chunk, this.buffer.length);
    let pos = 0;
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = pos + 1;
      for (;;) {
        if (i >= all.length) {
          this.buffer = all.slice(pos);
          return;
        }
        const b = all[i++];
        len += (b & 127) * mul;
        mul *= 128;
        if ((b & 128) === 0) break;
      }
      if (i + len > all.length) {
        this.buffer = all.slice(pos);
        return;
      }
      this.handle(all[pos], all.subarray(i, i + len));
      pos = i + len;
    }
  }

  handle(first, body) {
    const type = first >> 4;
    const word = (at) => (body[at] << 8) | body[at + 1];
    if (type === 2) {
      const code = body[1];
      const c = this.connack;
      this.connack = undefined;
      if (code === 0) c?.resolve();
      else c?.reject(new Error(`CONNACK refused (code ${code})`));
    } else if (type === 9) {
      this.settle(word(0), body[2]);
    } else if (type === 4 || type === 7) {
      this.settle(word(0));
    } else if (type === 5) {
      this.ws.send(new Uint8Array([0x62, 2, body[0], body[1]]));
    } else if (type === 6) {
      this.ws.send(new Uint8Array([0x70, 2, body[0], body[1]]));
    } else if (type === 3) {
      const qos = (first >> 1) & 3;
      const tlen = word(0);
      const topic = dec.decode(body.subarray(2, 2 + tlen));
      let at = 2 + tlen;
      if (qos > 0) {
        const id = body.subarray(at, at + 2);
        at += 2;
        this.ws.send(new Uint8Array([qos === 1 ? 0x40 : 0x50, 2, id[0], id[1]]));
      }
      this.onmessage(topic, dec.decode(body.subarray(at)), qos, (first & 1) === 1);
    }
  }
}

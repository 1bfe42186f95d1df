// Browser MQTT client: connect to the broker's WebSocket listener, subscribe, publish.
import { api } from './api.js';
import { $, el, fmtClock, setText } from './format.js';
import { MqttWs } from './mqtt-ws.js';

const MAX_SHOWN = 500;
let client;

function log(text, cls = '') {
  const list = $('ws-messages');
  list.append(el('li', cls, `${fmtClock(Date.now())}  ${text}`));
  while (list.childElementCount > MAX_SHOWN) list.firstElementChild.remove();
  list.scrollTop = list.scrollHeight;
}

function showError(message) {
  const e = $('ws-error');
  e.textContent = message;
  e.hidden = !message;
}

function connected(on) {
  const badge = $('ws-state');
  badge.textContent = on ? 'connected' : 'disconnected';
  badge.className = `pill ${on ? '' : 'off'}`;
  $('ws-connect-button').disabled = on;
  $('ws-disconnect').disabled = !on;
}

async function suggestUrl() {
  if ($('ws-url').value) return;
  try {
    const { items } = await api('listeners');
    const ws = items.find((l) => l.protocol === 'websockets' || l.protocol === 'ws');
    if (ws) $('ws-url').value = `ws://${location.hostname}:${ws.port}/mqtt`;
    else
      setText(
        'ws-error',
        'This broker has no WebSocket listener (listener PORT + protocol websockets).',
      );
  } catch {
    // signed out or down: the status badge says so
  }
  if (!$('ws-client-id').value) {
    $('ws-client-id').value = `dashboard-${Math.random().toString(16).slice(2, 8)}`;
  }
}

$('ws-connect').addEventListener('submit', async (e) => {
  e.preventDefault();
  showError('');
  client = new MqttWs();
  client.onmessage = (topic, text, qos, retain) =>
    log(`${topic}  ${text}  (QoS ${qos}${retain ? ', retained' : ''})`, 'in');
  client.onclose = (reason) => {
    connected(false);
    log(`disconnected: ${reason}`, 'muted');
  };
  try {
    await client.connect($('ws-url').value.trim(), {
      clientId: $('ws-client-id').value.trim(),
      username: $('ws-user').value,
      password: $('ws-pass').value,
    });
    connected(true);
    log(`connected to ${$('ws-url').value.trim()} as ${$('ws-client-id').value.trim()}`, 'muted');
  } catch (err) {
    connected(false);
    showError(err.message);
  }
});

$('ws-disconnect').addEventListener('click', () => client?.end());

$('ws-sub').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!client) return showError('Connect first.');
  const filter = $('ws-sub-filter').value.trim();
  const granted = await client.subscribe(filter, Number($('ws-sub-qos').value));
  log(
    granted === 0x80
      ? `subscription to ${filter} refused`
      : `subscribed to ${filter} (QoS ${granted})`,
    'muted',
  );
});

$('ws-pub').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!client) return showError('Connect first.');
  const topic = $('ws-pub-topic').value.trim();
  const qos = Number($('ws-pub-qos').value);
  try {
    await client.publish(topic, $('ws-pub-payload').value, qos);
    log(`published to ${topic} (QoS ${qos})`, 'muted');
  } catch (err) {
    showError(err.message);
  }
});

connected(false);

export default { refresh: suggestUrl };

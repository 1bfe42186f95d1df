// Heron embedded in a Node application: a broker with an authentication hook,
// an authorization hook, events, and an in-process publish.
// Run after `npm install` (which builds dist/): node examples/embedded.mjs
import { createBroker } from 'heron-mqtt';

const users = new Map([['alice', 'secret']]);

const broker = createBroker({
  listeners: [{ port: Number(process.env.PORT ?? 1883), host: '127.0.0.1' }],
  hooks: {
    // Accept alice/secret; refuse everyone else with "bad user name or password".
    authenticate: async ({ username, password }) =>
      username !== undefined && users.get(username) === password?.toString(),
    // Clients may only publish under their own client id.
    authorizePublish: (client, topic) => topic.startsWith(`${client.clientId}/`),
  },
});

broker.on('clientConnected', (client) => console.log(`connected: ${client.clientId}`));
broker.on('publish', (msg, client) => {
  if (client !== undefined) console.log(`${client.clientId} published ${msg.topic}: ${msg.payload}`);
});

const [address] = await broker.listen();
console.log(`listening on ${address.host}:${address.port}`);

// The application can publish too (retained: new subscribers get it at once).
broker.publish({ topic: 'app/status', payload: Buffer.from('online'), qos: 1, retain: true });

process.once('SIGINT', () => broker.close().then(() => process.exit(0)));
if (process.env.EXAMPLE_EXIT_AFTER_MS) {
  setTimeout(() => broker.close(), Number(process.env.EXAMPLE_EXIT_AFTER_MS));
}

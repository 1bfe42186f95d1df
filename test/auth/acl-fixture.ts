// One ACL file exercised both by Heron's unit tests and against a real mosquitto.

/** The shared ACL text: anonymous section, per-user sections, patterns, denials and wildcards. */
export const ACL_TEXT = `# Entries before the first user line are for clients without a username.
topic read public/#
topic write anon/in
pattern read clients/%c/#

user alice
topic readwrite home/alice/#
topic deny home/alice/private
topic read sensors/+/temp
topic write cmd/#

user bob
topic home/bob/#
topic deny sensors/#
topic read sensors/#
# A pattern inside a user section still applies to every client.
pattern write users/%u/out

user admin
topic readwrite #

user carol
topic write carol/only

pattern readwrite users/%u/#
pattern deny users/%u/locked
`;

/** A client in the matrix; clientId `c+1` has a wildcard, which Mosquitto refuses for patterns. */
export interface MatrixSubject {
  username?: string;
  clientId: string;
}

/** Clients that connect in the matrix (admin is the observer). */
export const SUBJECTS: MatrixSubject[] = [
  { clientId: 'anon1' },
  { username: 'alice', clientId: 'alice-1' },
  { username: 'bob', clientId: 'bob-1' },
  { username: 'carol', clientId: 'c+1' },
  { username: 'dave', clientId: 'dave-1' },
];

/** Topics to publish and receive. */
export const TOPICS = [
  'public/news',
  'anon/in',
  'clients/anon1/x',
  'clients/alice-1/x',
  'clients/bob-1',
  'home/alice/a',
  'home/alice/private',
  'home/bob/x',
  'sensors/kitchen/temp',
  'sensors/kitchen/hum',
  'cmd/go',
  'users/alice/x',
  'users/bob/out',
  'users/bob/locked',
  'users/carol/x',
  'users/dave/out',
  'carol/only',
  'other',
];

/**
 * Highest bcrypt cost verified. bcryptjs runs on the main thread, each cost
 * step doubles the work (cost 10 takes ~65 ms, 14 about a second), and a
 * stored `$2b$31$` would never finish: a corrupt or hostile row must not
 * stall the broker, so higher costs never verify.
 */
export const MAX_BCRYPT_COST = 14;

const BCRYPT = /^\$2[abxy]?\$(\d{2})\$[./A-Za-z0-9]{53}$/;

/** Whether `password` matches a stored bcrypt hash; malformed or too costly hashes never match. */
export async function verifyBcrypt(password: Buffer, stored: string): Promise<boolean> {
  const m = BCRYPT.exec(stored);
  if (m === null || Number(m[1]) > MAX_BCRYPT_COST) return false;
  // Loaded on the first bcrypt hash, not at start: most brokers never see one.
  const bcrypt = (await import('bcryptjs')).default;
  return bcrypt.compare(password.toString('utf8'), stored);
}

/**
 * `user root` when the tests run as root: started as root without it, heron (like
 * mosquitto) becomes the 'mosquitto' user and loses access to the tests' 0700 temp files.
 */
export const KEEP_ROOT: string[] = process.getuid?.() === 0 ? ['user root'] : [];

/** KEEP_ROOT as configuration text (empty or one line). */
export const KEEP_ROOT_TEXT: string = KEEP_ROOT.map((l) => `${l}\n`).join('');

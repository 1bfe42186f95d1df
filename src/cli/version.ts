/** Heron's version (package.json), for the command line. */
export { VERSION } from '../version.js';

/**
 * Trims what C's isspace() calls blank (space, \t, \n, \v, \f, \r), as Mosquitto
 * trims the fields of its password and ACL files; String.trim() would also strip
 * Unicode spaces that Mosquitto keeps.
 */
export function trimBlanks(s: string): string {
  return s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
}

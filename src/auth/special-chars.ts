/**
 * Mosquitto's `auth_plugin_deny_special_chars` (on by default): a client whose
 * client id or user name contains `+` or `#` is denied every ACL check before
 * any plugin is asked, since a plugin (or a web service) that builds topics
 * from them would otherwise hand that client other clients' topics.
 */
export function hasSpecialChars(clientId: string, username: string | undefined): boolean {
  return /[+#]/.test(clientId) || (username !== undefined && /[+#]/.test(username));
}

/**
 * Broker URLs as configured and as shown. Credentials do not belong in a URL: it is
 * printed in logs, `status --json` and the health topic. Config check refuses them
 * (use username / passwordFile); a URL built in code is still shown redacted.
 */

/** The `user[:password]@` part after the scheme, if any. */
const USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@]*)@/i;

export function urlHasCredentials(url: string): boolean {
  return USERINFO.test(url);
}

/** The URL with any user and password replaced by `***`. */
export function redactUrl(url: string): string {
  return url.replace(USERINFO, '$1***@');
}

/** Schemes on which a password travels in clear text. */
export function isPlaintext(url: string): boolean {
  return /^(mqtt|tcp|ws):\/\//i.test(url);
}

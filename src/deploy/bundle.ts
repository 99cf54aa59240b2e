import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseDuration } from '../core/duration';

/**
 * A deploy bundle as it arrives on `<prefix>/<gw>/req/deploy`:
 *
 *   {"id": "d-7", "version": 7, "label": "spring",
 *    "rules": [{"name": "pump.yaml", "text": "rules: ...", "sha256": "<hex>"}],
 *    "signature": "<base64 Ed25519 signature of signedMessage(bundle)>"}
 *
 * `rules` is the whole rule set: files of the rules directory that the bundle
 * does not name are removed when it is applied. The signature covers the
 * version, the label and every file's name and sha256 (so every byte of every
 * text), in the form signedMessage() writes; docs/operations.md shows how to
 * make one with openssl or `fieldgate deploy sign`.
 */
export interface BundleFile {
  name: string;
  text: string;
  sha256: string;
}

export interface Bundle {
  version: number;
  label: string;
  /** The whole rule set; empty in a config bundle. */
  rules: BundleFile[];
  /** The gateway config (a bundle carries rules or a config, not both); applied by a controlled restart. */
  config?: { text: string; sha256: string };
  signature?: string;
  /** How the deploy is confirmed: `req/deploy.confirm` (manual) or by the gateway once healthy and online (auto). */
  confirm: 'manual' | 'auto';
  /** The confirm window in ms; the config's deploy.confirmWindow when the bundle names none. */
  confirmWindowMs?: number;
}

/**
 * The largest deploy request: below the largest MQTT packet the uplink takes in
 * (MAX_INCOMING_PACKET, 32 KiB) with room for the topic and properties.
 */
export const MAX_DEPLOY_PAYLOAD_BYTES = 30 * 1024;
/** What a bundle may hold. */
export const MAX_BUNDLE_FILES = 64;
export const MAX_LABEL = 100;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.ya?ml$/;
const SHA_RE = /^[0-9a-f]{64}$/;
/** Keys read from the keys directory at most, and the largest key file read. */
export const MAX_KEYS = 16;
const MAX_KEY_BYTES = 4096;

export const BUNDLE_PARAMS = ['version', 'label', 'rules', 'config', 'signature', 'confirm', 'confirmWindow'] as const;
/** A gateway config is larger than a rule file but still bounded by the request size. */
const CONFIG_RE_KEYS = ['text', 'sha256'];
/** Longest confirm window a bundle may ask for. */
export const MAX_CONFIRM_WINDOW_MS = 60 * 60_000;

/** Check a request's parameters into a Bundle; throws one message for the sender. */
export function parseBundle(p: Record<string, unknown>): Bundle {
  const unknown = Object.keys(p).filter((k) => !(BUNDLE_PARAMS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`unknown parameter(s) ${unknown.map((k) => JSON.stringify(k)).join(', ')}; expected ${BUNDLE_PARAMS.join(', ')}`);
  const { version, label = '', rules, config, signature, confirm = 'manual', confirmWindow } = p;
  if (confirm !== 'manual' && confirm !== 'auto') throw new Error('confirm must be "manual" (req/deploy.confirm) or "auto" (confirmed once healthy and online)');
  const windowMs = confirmWindow === undefined ? undefined : typeof confirmWindow === 'string' ? parseDuration(confirmWindow) : undefined;
  if (confirmWindow !== undefined && (windowMs === undefined || windowMs < 1000 || windowMs > MAX_CONFIRM_WINDOW_MS))
    throw new Error('confirmWindow must be a duration with a unit from "1s" to "1h" (e.g. "2m")');
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) throw new Error('version must be a positive integer (versions only go up)');
  if (typeof label !== 'string' || label.length > MAX_LABEL || /[\r\n]/.test(label)) throw new Error(`label must be a string of at most ${MAX_LABEL} characters on one line`);
  if (signature !== undefined && (typeof signature !== 'string' || signature.length === 0 || signature.length > 200)) throw new Error('signature must be a base64 string');
  if (config !== undefined) {
    if (rules !== undefined) throw new Error('a bundle carries rules or a config, not both: deploy them one after the other');
    if (config === null || typeof config !== 'object' || Array.isArray(config)) throw new Error('config must be an object {text, sha256}');
    const c = config as Record<string, unknown>;
    const extra = Object.keys(c).filter((k) => !CONFIG_RE_KEYS.includes(k));
    if (extra.length > 0) throw new Error(`config: unknown key(s) ${extra.join(', ')}; expected text, sha256`);
    if (typeof c.text !== 'string') throw new Error("config.text must be the config file's text");
    if (typeof c.sha256 !== 'string' || !SHA_RE.test(c.sha256)) throw new Error('config.sha256 must be 64 lower-case hex digits');
    const actual = sha256Hex(c.text);
    if (actual !== c.sha256) throw new Error(`config: sha256 of its text is ${actual}, the bundle says ${c.sha256} (damaged or edited in transit)`);
    return { version, label, rules: [], config: { text: c.text, sha256: c.sha256 }, signature: signature as string | undefined, confirm, confirmWindowMs: windowMs };
  }
  if (!Array.isArray(rules) || rules.length === 0 || rules.length > MAX_BUNDLE_FILES) throw new Error(`rules must be a list of 1 to ${MAX_BUNDLE_FILES} files {name, text, sha256} (or the bundle carries a config)`);
  const seen = new Set<string>();
  const files = rules.map((f: unknown, i): BundleFile => {
    const at = `rules[${i}]`;
    if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new Error(`${at} must be an object {name, text, sha256}`);
    const { name, text, sha256, ...rest } = f as Record<string, unknown>;
    if (Object.keys(rest).length > 0) throw new Error(`${at}: unknown key(s) ${Object.keys(rest).join(', ')}; expected name, text, sha256`);
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw new Error(`${at}.name must be a file name ending in .yaml or .yml (letters, digits, . _ -; no directories)`);
    if (seen.has(name)) throw new Error(`${at}.name: ${name} appears twice`);
    seen.add(name);
    if (typeof text !== 'string') throw new Error(`${at}.text must be the file's text`);
    if (typeof sha256 !== 'string' || !SHA_RE.test(sha256)) throw new Error(`${at}.sha256 must be 64 lower-case hex digits`);
    const actual = sha256Hex(text);
    if (actual !== sha256) throw new Error(`${name}: sha256 of its text is ${actual}, the bundle says ${sha256} (damaged or edited in transit)`);
    return { name, text, sha256 };
  });
  return { version, label, rules: files, signature: signature as string | undefined, confirm, confirmWindowMs: windowMs };
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

/**
 * The bytes that are signed: one line each, files sorted by name.
 *
 *   fieldgate-deploy v1
 *   version 7
 *   label spring
 *   rules pump.yaml 3b1f...
 */
export function signedMessage(b: Pick<Bundle, 'version' | 'label' | 'rules' | 'config'>): Buffer {
  const files = [...b.rules].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const lines = ['fieldgate-deploy v1', `version ${b.version}`, `label ${b.label}`, ...files.map((f) => `rules ${f.name} ${f.sha256}`)];
  if (b.config) lines.push(`config ${b.config.sha256}`);
  return Buffer.from(lines.join('\n') + '\n', 'utf8');
}

export interface PinnedKey {
  name: string;
  key: crypto.KeyObject;
}

/** The Ed25519 public keys (`*.pem`, SPKI) pinned in `dir`, and why any file there was skipped. */
export function loadPinnedKeys(dir: string): { keys: PinnedKey[]; skipped: string[] } {
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((f) => f.endsWith('.pem')).sort();
  } catch (err) {
    return { keys: [], skipped: [`${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`] };
  }
  const keys: PinnedKey[] = [];
  const skipped: string[] = [];
  for (const name of names.slice(0, MAX_KEYS)) {
    const file = path.join(dir, name);
    try {
      const size = fs.statSync(file).size;
      if (size > MAX_KEY_BYTES) throw new Error(`${size} bytes; a public key is under ${MAX_KEY_BYTES}`);
      const key = crypto.createPublicKey(fs.readFileSync(file, 'utf8'));
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
      keys.push({ name, key });
    } catch (err) {
      skipped.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (names.length > MAX_KEYS) skipped.push(`${names.length - MAX_KEYS} key file(s) past the first ${MAX_KEYS}`);
  return { keys, skipped };
}

/** The name of the pinned key the signature verifies against; throws why not otherwise. */
export function verifyBundle(b: Bundle, keysDir: string): string {
  if (b.signature === undefined) throw new Error('bundle is not signed');
  const sig = Buffer.from(b.signature, 'base64');
  if (sig.length !== 64) throw new Error(`signature is ${sig.length} bytes once base64-decoded; an Ed25519 signature is 64`);
  const { keys, skipped } = loadPinnedKeys(keysDir);
  const why = skipped.length ? ` (skipped: ${skipped.join('; ')})` : '';
  if (keys.length === 0) throw new Error(`no Ed25519 public key is pinned in ${keysDir}${why}`);
  const message = signedMessage(b);
  const match = keys.find((k) => crypto.verify(null, message, k.key, sig));
  if (!match) throw new Error(`signature does not verify against any key pinned in ${keysDir} (${keys.map((k) => k.name).join(', ')})${why}`);
  return match.name;
}

import { createPublicKey, type KeyObject } from 'node:crypto';
import { CliError } from './io.js';

/** The public key of a private or public PEM; the error never quotes the file, which may hold a private key. */
export function publicKeyFromPem(pem: string, command: string): KeyObject {
  if (!pem.includes('-----BEGIN')) {
    throw new CliError(`${command}: not a PEM key (shared secrets / HMAC keys are refused, ADR 0031)`);
  }
  try {
    return createPublicKey(pem);
  } catch {
    throw new CliError(`${command}: the PEM could not be parsed as an unencrypted key`);
  }
}

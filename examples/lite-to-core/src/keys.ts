import { generateKeyPairSync } from 'node:crypto';

/** `lite-YYYY-MM` for the month `offset` months from now (the contract's kid convention). */
export function kidForMonth(offset = 0, date = new Date()): string {
  const d = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + offset, 1));
  return `lite-${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** A fresh RSA-2048 key, as the rotation runbook's first step ("generate a new RSA keypair"). */
export function generateLiteKey(kid: string): { kid: string; privateKeyPem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}

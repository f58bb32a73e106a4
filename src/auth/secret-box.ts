import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Seals short secrets (TOTP secrets) with AES-256-GCM. The 256-bit key is derived with HKDF-SHA-256
 * from MFA_ENCRYPTION_KEY (any string of at least 32 characters, like JWT_SECRET). A sealed value is
 * `v1.<iv>.<ciphertext>.<tag>` (base64url); the user id is bound in as associated data, so a sealed
 * secret copied to another user's row does not open.
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('MFA_ENCRYPTION_KEY must be at least 32 characters');
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'enterprise-portal', 'mfa secret box v1', 32));
  }

  /** A box with a random key: secrets it seals die with the process (tests, in-memory databases). */
  static ephemeral(): SecretBox {
    return new SecretBox(randomBytes(32).toString('base64url'));
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return [VERSION, iv, body, cipher.getAuthTag()]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plain text, or undefined when the value was not sealed with this key for this context. */
  open(sealed: string, context: string): string | undefined {
    const [version, iv, body, tag] = sealed.split('.');
    if (version !== VERSION || !iv || body === undefined || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      return undefined;
    }
  }
}

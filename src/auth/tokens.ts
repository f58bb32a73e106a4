import { createHmac, timingSafeEqual } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';

const ISSUER = 'enterprise-portal';
const AUDIENCE = 'enterprise-portal';
const ALGORITHM = 'HS256';
const PENDING_AUDIENCE = 'enterprise-portal:mfa-pending';
/** How long the sign-in page waits for the code after a right password. */
export const PENDING_TTL_SECONDS = 5 * 60;

export interface TokenClaims {
  userId: number;
  sessionId: string;
}

/** Signs and verifies sign-in tokens; algorithm, issuer and audience are pinned both ways. */
export class TokenService {
  /** Imported once: handing jose the raw bytes imports the key again on every call (≈ 30 % slower). */
  readonly #key: Promise<CryptoKey>;
  /** The same secret for the synchronous check of sign-in tokens (`verify`, every request). */
  readonly #secret: Buffer;
  /** Tokens whose signature and claims were checked already, with their expiry (s). */
  readonly #verified = new Map<string, { claims: TokenClaims; exp: number }>();
  constructor(
    secret: string,
    readonly ttlSeconds: number,
  ) {
    this.#secret = Buffer.from(secret);
    this.#key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign', 'verify'],
    );
  }

  async sign(claims: TokenClaims, expiresAt: Date): Promise<string> {
    return new SignJWT({ sid: claims.sessionId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(claims.userId))
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(expiresAt.getTime() / 1000))
      .sign(await this.#key);
  }

  /**
   * A short-lived proof that a user gave the right password and now owes a second-factor code
   * (the sign-in page's second step). Its own audience: it is never accepted as a sign-in token.
   */
  async signPending(userId: number, ttlSeconds = PENDING_TTL_SECONDS): Promise<string> {
    return new SignJWT({})
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(String(userId))
      .setIssuer(ISSUER)
      .setAudience(PENDING_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSeconds)
      .sign(await this.#key);
  }

  /** The user id of a valid, unexpired pending token, else undefined. */
  async verifyPending(token: string): Promise<number | undefined> {
    try {
      const { payload } = await jwtVerify(token, await this.#key, {
        algorithms: [ALGORITHM],
        issuer: ISSUER,
        audience: PENDING_AUDIENCE,
        requiredClaims: ['sub', 'exp'],
      });
      const userId = Number(payload.sub);
      return Number.isSafeInteger(userId) ? userId : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The claims of a valid token, or undefined for anything else (bad signature, expired, malformed).
   * Every request calls it, so it is synchronous node:crypto HMAC rather than jose's WebCrypto
   * (a thread-pool job and several promises per call: 11 % of the portal's CPU under load,
   * docs/benchmarks.md#request-path), and a token already checked is remembered until it expires.
   * The same pins as jose's: alg HS256 only, issuer, audience, exp, sub and sid required.
   * Whether the sign-in is still in force is not a property of the token: the database says that.
   */
  async verify(token: string): Promise<TokenClaims | undefined> {
    return this.verifySync(token);
  }

  verifySync(token: string): TokenClaims | undefined {
    const now = Date.now() / 1000;
    const known = this.#verified.get(token);
    if (known) return known.exp > now ? known.claims : undefined;
    const checked = this.#check(token, now);
    if (!checked) return undefined;
    if (this.#verified.size >= VERIFIED_CACHE_SIZE) this.#verified.clear();
    this.#verified.set(token, checked);
    return checked.claims;
  }

  #check(token: string, now: number): { claims: TokenClaims; exp: number } | undefined {
    const parts = token.split('.');
    if (parts.length !== 3 || token.length > 4096) return undefined;
    const [head, body, signature] = parts as [string, string, string];
    const expected = createHmac('sha256', this.#secret).update(`${head}.${body}`).digest();
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const header = parseJson(head);
    if (!header || header.alg !== ALGORITHM || 'crit' in header || 'b64' in header) return undefined;
    const payload = parseJson(body);
    if (!payload || payload.iss !== ISSUER) return undefined;
    const aud = payload.aud;
    if (!(aud === AUDIENCE || (Array.isArray(aud) && aud.includes(AUDIENCE)))) return undefined;
    const { exp, nbf, sub, sid } = payload;
    if (typeof exp !== 'number' || !(exp > now)) return undefined;
    if (nbf !== undefined && (typeof nbf !== 'number' || nbf > now)) return undefined;
    if (payload.iat !== undefined && typeof payload.iat !== 'number') return undefined;
    const userId = Number(sub);
    if (typeof sub !== 'string' || !Number.isSafeInteger(userId) || typeof sid !== 'string') return undefined;
    return { claims: { userId, sessionId: sid }, exp };
  }
}

/** How many checked tokens `verify` remembers (cleared at once when full: no bookkeeping per call). */
const VERIFIED_CACHE_SIZE = 10_000;

function parseJson(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

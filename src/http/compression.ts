import { once } from 'node:events';
import { promisify } from 'node:util';
import {
  type BrotliCompress,
  brotliCompress,
  constants,
  createBrotliCompress,
  createGzip,
  type Gzip,
  gzip,
} from 'node:zlib';
import { createMiddleware } from 'hono/factory';

export type Encoding = 'br' | 'gzip';

/** Text worth compressing; images, fonts and archives are compressed already. No text/event-stream. */
const COMPRESSIBLE =
  /^\s*(?:text\/(?:html|css|javascript|plain|csv|xml)|application\/(?:json|javascript|xml|[\w.+-]+\+json|[\w.+-]+\+xml)|image\/svg\+xml)\s*(?:;|$)/i;

export const isCompressible = (contentType: string | null | undefined) =>
  COMPRESSIBLE.test(contentType ?? '');

/**
 * The content coding to answer with, from `Accept-Encoding` (RFC 9110 §12.5.3): the highest
 * q-value among those we offer, brotli before gzip on a tie; `*` stands for anything not named;
 * q=0 refuses. No header, or nothing acceptable: undefined (send as is).
 */
export function negotiateEncoding(
  header: string | undefined | null,
  offered: readonly Encoding[] = ['br', 'gzip'],
): Encoding | undefined {
  if (!header) return undefined;
  const q = new Map<string, number>();
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    let weight = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/.exec(param);
      if (match) weight = Number(match[1]);
    }
    q.set(name === 'x-gzip' ? 'gzip' : name, weight);
  }
  const weightOf = (coding: Encoding) => q.get(coding) ?? q.get('*') ?? 0;
  const best = (['br', 'gzip'] as const)
    .filter((coding) => offered.includes(coding))
    .map((coding) => ({ coding, weight: weightOf(coding) }))
    .filter((o) => o.weight > 0)
    .sort((a, b) => b.weight - a.weight)[0];
  return best?.coding;
}

/** Adds `Accept-Encoding` to `Vary`: caches must keep one copy per coding. */
export function varyOnEncoding(headers: Headers) {
  const vary = headers.get('vary');
  if (!vary) headers.set('vary', 'Accept-Encoding');
  else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary))
    headers.set('vary', `${vary}, Accept-Encoding`);
}

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

/** One-shot compression; `best` for assets compressed once at start-up, else fast enough per request. */
export async function compress(
  encoding: Encoding,
  body: Uint8Array,
  best = false,
): Promise<Uint8Array<ArrayBuffer>> {
  const out =
    encoding === 'br'
      ? await brotli(body, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: best ? constants.BROTLI_MAX_QUALITY : 5,
            [constants.BROTLI_PARAM_SIZE_HINT]: body.byteLength,
          },
        })
      : await gzipAsync(body, { level: best ? constants.Z_BEST_COMPRESSION : 6 });
  return new Uint8Array(out.buffer as ArrayBuffer, out.byteOffset, out.byteLength);
}

type Read = ReadableStreamReadResult<Uint8Array>;

/** A read that is already settled (or settles before the next turn of the event loop), else undefined. */
async function readNow(pending: Promise<Read>): Promise<Read | undefined> {
  return Promise.race([pending, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
}

/**
 * The rest of a streamed body, compressed chunk by chunk with a flush after each one: whatever the
 * handler has written reaches the client now, not when some compression buffer fills. Pulled, so
 * a slow client slows the source down instead of the compressed bytes piling up in memory.
 */
function compressStream(
  encoding: Encoding,
  first: Uint8Array[],
  pending: Promise<Read>,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  const z: BrotliCompress | Gzip =
    encoding === 'br'
      ? createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: 5 } })
      : createGzip({ level: 6 });
  const kind = encoding === 'br' ? constants.BROTLI_OPERATION_FLUSH : constants.Z_SYNC_FLUSH;
  const out: Uint8Array[] = [];
  z.on('data', (d: Buffer) => out.push(new Uint8Array(d.buffer, d.byteOffset, d.byteLength)));
  const queued = [...first];
  let next: Promise<Read> | undefined = pending;
  const drain = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    for (const chunk of out.splice(0)) controller.enqueue(chunk);
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let chunk = queued.shift();
        if (!chunk) {
          const read: Read = await (next ?? reader.read());
          next = undefined;
          if (read.done) {
            const ended = once(z, 'end');
            z.end();
            await ended;
            drain(controller);
            controller.close();
            return;
          }
          chunk = read.value;
        }
        z.write(chunk);
        await new Promise<void>((resolve) => z.flush(kind, () => resolve()));
        drain(controller);
      } catch (error) {
        z.destroy();
        controller.error(error);
      }
    },
    cancel(reason) {
      z.destroy();
      return reader.cancel(reason);
    },
  });
}

/**
 * Compresses dynamic answers (HTML, JSON, JS, CSS, CSV, ...) for clients that accept it, with
 * `Vary: Accept-Encoding`. A body that is complete at once (every `c.json`, `c.html`) is
 * compressed in one go when it is at least `threshold` bytes, and carries its Content-Length.
 * A body still being written (an export streamed row by row) stays streamed: compressed chunk by
 * chunk, each flushed as it comes. HEAD is answered as GET would be (Hono drops the body). Answers that already have a Content-Encoding (the
 * precompressed assets) or say `no-transform` are left alone; WebSocket upgrades have no body.
 */
export function compression({ threshold = 1024 }: { threshold?: number } = {}) {
  return createMiddleware(async (c, next) => {
    await next();
    const res = c.res;
    if (!isCompressible(res.headers.get('content-type')) || res.headers.has('content-encoding')) return;
    if (res.status < 200 || res.status === 204 || res.status === 206 || res.status === 304) return;
    if (/\bno-transform\b/i.test(res.headers.get('cache-control') ?? '')) return;
    const encoding = negotiateEncoding(c.req.header('accept-encoding'));
    if (!encoding || !res.body) {
      // Nothing to compress: the answer as it is, only varied. Its headers are changed in place when
      // they may be: a new Response around `res.body` would turn a body the Node adapter writes at
      // once into a web stream piped chunk by chunk (a quarter of a small answer's CPU).
      try {
        varyOnEncoding(res.headers);
      } catch {
        const headers = new Headers(res.headers);
        varyOnEncoding(headers);
        c.res = undefined;
        c.res = new Response(res.body, { status: res.status, statusText: res.statusText, headers });
      }
      return;
    }
    const headers = new Headers(res.headers);
    varyOnEncoding(headers);
    const init = { status: res.status, statusText: res.statusText, headers };
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    let pending: Promise<Read> = reader.read();
    for (;;) {
      const read = await readNow(pending);
      if (!read) break; // still being written: a stream
      if (read.done) {
        const body = concat(chunks, size);
        if (size < threshold) {
          c.res = new Response(body, init);
        } else {
          const packed = await compress(encoding, body);
          headers.set('content-encoding', encoding);
          headers.set('content-length', String(packed.byteLength));
          c.res = new Response(packed, init);
        }
        return;
      }
      chunks.push(read.value);
      size += read.value.byteLength;
      pending = reader.read();
    }
    headers.delete('content-length');
    headers.set('content-encoding', encoding);
    c.res = new Response(compressStream(encoding, chunks, pending, reader), init);
  });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return all;
}

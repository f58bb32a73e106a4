// @ts-check
/**
 * The browser side of the realtime protocol (docs/contract.md §6): keeps one dashboard document live over
 * /ws. Reconnects with exponential backoff and full jitter, resumes with the session id kept in
 * sessionStorage (one session per tab, surviving reloads), applies RFC 7396 merge patches, and
 * resnapshots on a seq gap. Pages listen to its events:
 *   'state'    detail: 'connecting' | 'live' | 'reconnecting' | 'offline' | 'signed-out'
 *   'snapshot' detail: { doc, seq }
 *   'change'   detail: { doc, seq, patch }
 */

import { apply as applyMergePatch } from './merge-patch.js';
import { CLOSE, closeAction, decodeFrame, reconnectDelayMs } from './protocol.js';

/** @import { Json, ServerFrame } from './protocol.js' */
/** @typedef {'connecting' | 'live' | 'reconnecting' | 'offline' | 'signed-out'} ConnectionState */

const SESSION_KEY = 'portal.realtime.session';

export class LiveDocument extends EventTarget {
  /** @param {{ url?: string, storage?: Storage, minBackoffMs?: number, maxBackoffMs?: number }} [options] */
  constructor(options = {}) {
    super();
    this.url = options.url ?? '/ws';
    this.storage = options.storage ?? globalThis.sessionStorage;
    this.minBackoffMs = options.minBackoffMs ?? 500;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    /** @type {Json | undefined} */
    this.doc = undefined;
    this.seq = 0;
    /** @type {ConnectionState} */
    this.state = 'connecting';
    this.attempt = 0;
    /** @type {WebSocket | undefined} */
    this.socket = undefined;
    this.stopped = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.timer = undefined;
    this.onOnline = () => this.reconnectNow();
    this.onOffline = () => {
      this.setState('offline');
      this.socket?.close();
    };
  }

  start() {
    globalThis.addEventListener?.('online', this.onOnline);
    globalThis.addEventListener?.('offline', this.onOffline);
    this.connect();
    return this;
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    globalThis.removeEventListener?.('online', this.onOnline);
    globalThis.removeEventListener?.('offline', this.onOffline);
    this.socket?.close(CLOSE.normal);
  }

  /** @param {ConnectionState} state */
  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: state }));
  }

  connect() {
    if (this.stopped) return;
    const session = this.storage?.getItem(SESSION_KEY);
    const query = new URLSearchParams();
    if (session) {
      query.set('session_id', session);
      if (this.doc !== undefined) query.set('last_seq', String(this.seq));
    }
    const base = new URL(this.url, globalThis.location?.href);
    base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
    base.search = query.toString();
    const socket = new WebSocket(base);
    this.socket = socket;
    socket.onmessage = (event) => {
      const { frame } = decodeFrame(String(event.data));
      // Anything else is not for clients (a control frame) or not the protocol: ignored.
      if (frame && frame.type !== 'control') this.onFrame(socket, frame);
    };
    socket.onclose = (event) => this.onClose(socket, event.code);
  }

  /** @param {WebSocket} socket @param {ServerFrame} frame */
  onFrame(socket, frame) {
    if (socket !== this.socket) return;
    if (frame.type === 'hello') {
      this.storage?.setItem(SESSION_KEY, frame.session_id);
      // A resume the server confirmed: what we missed (if anything) follows, then live deltas.
      // Live now; a quiet account may send nothing more for minutes. Otherwise a snapshot follows.
      if (frame.resumed === true && this.doc !== undefined) {
        this.attempt = 0;
        this.setState('live');
      }
      return;
    }
    if (frame.type === 'snapshot') {
      this.doc = frame.data;
      this.seq = frame.seq;
      this.attempt = 0;
      this.setState('live');
      this.dispatchEvent(new CustomEvent('snapshot', { detail: { doc: this.doc, seq: this.seq } }));
      return;
    }
    if (frame.type === 'delta') {
      if (this.doc === undefined || frame.seq !== this.seq + 1) {
        // A gap: reconnect with our session; the server replays what we missed or sends a snapshot.
        if (frame.seq > this.seq) socket.close(CLOSE.resync, 'seq gap');
        return;
      }
      this.doc = applyMergePatch(this.doc, frame.patch);
      this.seq = frame.seq;
      this.attempt = 0;
      this.setState('live');
      this.dispatchEvent(
        new CustomEvent('change', { detail: { doc: this.doc, seq: this.seq, patch: frame.patch } }),
      );
    }
  }

  /** @param {WebSocket} socket @param {number} code */
  onClose(socket, code) {
    if (socket !== this.socket || this.stopped) return;
    this.socket = undefined;
    // What each close code asks for is the protocol's (public/js/protocol.js CLOSE_POLICY).
    const action = closeAction(code);
    if (action === 'signed-out') {
      // Signed out, revoked or deactivated: reconnecting cannot help.
      this.storage?.removeItem(SESSION_KEY);
      this.setState('signed-out');
      return;
    }
    if (action === 'refused' || globalThis.navigator?.onLine === false) {
      this.setState('offline');
      return;
    }
    this.setState('reconnecting');
    // A draining server, a slow reader, a seq gap: back at once (elsewhere if need be); else back off.
    const backoff = { minMs: this.minBackoffMs, maxMs: this.maxBackoffMs };
    const delay = reconnectDelayMs(code, this.attempt++, backoff) ?? 0;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  reconnectNow() {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.attempt = 0;
    if (this.socket) this.socket.close(CLOSE.resync, 'reconnect');
    else {
      this.setState('reconnecting');
      this.connect();
    }
  }
}

// @ts-check
/**
 * The page's one LiveDocument: one realtime session per tab, shared by every module of the page
 * that needs the user's document (the dashboard or the live lists, and the notification bell in
 * the header). Modules import the same URL, so they share this module and its socket.
 */
import { LiveDocument } from './live-document.js';

/** @type {LiveDocument | undefined} */
let live;
let started = false;

/** The page's LiveDocument, created on first use (not started: add listeners, then `startPageLive`). */
export function pageLive() {
  live ??= new LiveDocument();
  return live;
}

/** Starts the page's LiveDocument once, however many modules ask. */
export function startPageLive() {
  const doc = pageLive();
  if (!started) {
    started = true;
    doc.start();
  }
  return doc;
}

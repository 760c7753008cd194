/**
 * The live stream (GET /api/events): one EventSource for the page, shared by whoever listens.
 * Pages apply each event to the same state their first fetch filled; after a reconnect they
 * fetch again, so nothing sent while the connection was down is missed.
 */
import { useEffect, useState } from 'preact/hooks';
import type { LiveEvent } from './api/client';
import { currentLang } from './i18n';

export type LiveMessage = LiveEvent | { stream: 'reconnected' };
type Listener = (e: LiveMessage) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
let source: EventSource | undefined;
let connected = false;
let wasDown = false;
let serverNow = Date.now();
let onExpired: () => void = () => undefined;

export const setLiveExpiredHandler = (f: () => void) => void (onExpired = f);

function emit(e: LiveMessage): void {
  for (const l of [...listeners]) l(e);
}
function setConnected(c: boolean): void {
  connected = c;
  for (const l of stateListeners) l();
}

function open(): void {
  if (source !== undefined) return;
  // Rows come with titles in the page's language; after a switch the stream is opened again.
  source = new EventSource(`/api/events?lang=${currentLang()}`);
  source.onopen = () => {
    setConnected(true);
    if (wasDown) emit({ stream: 'reconnected' });
    wasDown = false;
  };
  source.onerror = () => {
    wasDown = true;
    setConnected(false);
  };
  source.onmessage = (m: MessageEvent<string>) => {
    const e = JSON.parse(m.data) as LiveEvent;
    if (e.stream === 'clock') {
      serverNow = e.now;
      for (const l of stateListeners) l();
    }
    emit(e);
  };
  source.addEventListener('expired', () => {
    close();
    onExpired();
  });
}

export function close(): void {
  source?.close();
  source = undefined;
  setConnected(false);
}

/** Listen to live events while the component is mounted. */
export function useLive(listener: Listener): void {
  useEffect(() => {
    listeners.add(listener);
    open();
    return () => void listeners.delete(listener);
  }, [listener]);
}

/** precall's clock as last heard (the demo's runs fast) and whether the stream is up. */
export function useLiveState(initialNow?: number): { now: number; connected: boolean } {
  if (initialNow !== undefined && initialNow > serverNow) serverNow = initialNow;
  const [, setTick] = useState(0);
  useEffect(() => {
    const l = () => setTick((n) => n + 1);
    stateListeners.add(l);
    return () => void stateListeners.delete(l);
  }, []);
  return { now: serverNow, connected };
}

export const setServerNow = (n: number) => void (serverNow = Math.max(serverNow, n));

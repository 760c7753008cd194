/**
 * The outbox's commit thread (node:worker_threads): owns the connection that writes the outbox
 * file, so the fsync of every commit (`synchronous = FULL`) waits here and not on the event loop
 * that reads sockets and answers HTTP. src/storage/outbox.ts sends it one batch at a time:
 *
 *   { op: 'insert', batch, at: number[], device: string[], lines: string[], fwd: [...][] }
 *       one transaction for the whole batch (readings and forward-journal entries), fsynced;
 *       answers { op: 'committed', batch } or { op: 'failed', batch, code, message } (nothing
 *       of the batch is stored then).
 *   { op: 'ack', uptoId }          delete the landed readings (answers only when it fails).
 *   { op: 'ackForward', uptoId }   delete the journal entries sent on (likewise).
 *   { op: 'close' }                close the file; answers { op: 'closed' }.
 *
 * Messages are handled in order, so an ack sent before an insert frees its space first. After
 * every answer the shared counter `signal[0]` is incremented and notified: the main thread may
 * block on it (Atomics.wait) when it must wait for a commit synchronously (flush, close).
 *
 * Plain JavaScript so that it loads in any Node process (tsx, vitest, `precall`) without a loader.
 */
import Database from 'better-sqlite3';
import { workerData } from 'node:worker_threads';

/** @type {{ path: string, maxPages: number | undefined, port: import('node:worker_threads').MessagePort, signal: SharedArrayBuffer }} */
const { path, maxPages, port, signal } = workerData;
const counter = new Int32Array(signal);

/** @type {import('better-sqlite3').Database | undefined} */
let db;
/** @type {import('better-sqlite3').Statement | undefined} */
let insert;
/** @type {import('better-sqlite3').Statement | undefined} */
let remove;
/** @type {import('better-sqlite3').Statement | undefined} */
let insertForward;
/** @type {import('better-sqlite3').Statement | undefined} */
let removeForward;

function open() {
  if (db !== undefined) return;
  const d = new Database(path);
  try {
    d.pragma('journal_mode = WAL');
    // A PUBACK promises the device it may forget the reading: the commit must survive a power cut.
    d.pragma('synchronous = FULL');
    if (maxPages !== undefined) d.pragma(`max_page_count = ${maxPages}`);
    d.exec('CREATE TABLE IF NOT EXISTS outbox_lines (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, device TEXT NOT NULL, lines TEXT NOT NULL)');
    insert = d.prepare('INSERT INTO outbox_lines (at, device, lines) VALUES (?, ?, ?)');
    remove = d.prepare('DELETE FROM outbox_lines WHERE id <= ?');
    // The same table as FORWARD_TABLE in outbox.ts.
    d.exec('CREATE TABLE IF NOT EXISTS outbox_forward (id INTEGER PRIMARY KEY AUTOINCREMENT, part INTEGER NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, seq INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL)');
    insertForward = d.prepare('INSERT INTO outbox_forward (part, device, ts, seq, kind, body) VALUES (?, ?, ?, ?, ?, ?)');
    removeForward = d.prepare('DELETE FROM outbox_forward WHERE id <= ?');
    db = d;
  } catch (err) {
    d.close();
    throw err;
  }
}

function close() {
  try {
    db?.close();
  } catch {
    // already broken; nothing more to release
  }
  db = undefined;
  insert = undefined;
  remove = undefined;
  insertForward = undefined;
  removeForward = undefined;
}

/** @param {unknown} err */
function failure(err) {
  const code = /** @type {{ code?: unknown }} */ (err)?.code;
  return { code: typeof code === 'string' ? code : 'UNKNOWN', message: err instanceof Error ? err.message : String(err) };
}

/** @param {Record<string, unknown>} msg */
function answer(msg) {
  port.postMessage(msg);
  Atomics.add(counter, 0, 1);
  Atomics.notify(counter, 0);
}

/** @param {{ at: number[], device: string[], lines: string[], fwd: unknown[][] | undefined }} b */
function store(b) {
  open();
  const d = /** @type {import('better-sqlite3').Database} */ (db);
  const ins = /** @type {import('better-sqlite3').Statement} */ (insert);
  const insFwd = /** @type {import('better-sqlite3').Statement} */ (insertForward);
  d.transaction(() => {
    for (let i = 0; i < b.lines.length; i++) ins.run(b.at[i], b.device[i], b.lines[i]);
    for (const f of b.fwd ?? []) insFwd.run(f);
  })();
}

/** @param {'ack' | 'ackForward'} op @param {number} uptoId */
function forget(op, uptoId) {
  try {
    open();
    /** @type {import('better-sqlite3').Statement} */ (op === 'ack' ? remove : removeForward).run(uptoId);
  } catch (err) {
    // Deleting needs a little space too; the rows stay and are sent again later (idempotent).
    close();
    answer({ op: 'ackFailed', ...failure(err) });
  }
}

port.on('message', (/** @type {any} */ msg) => {
  if (msg.op === 'insert') {
    try {
      store(msg);
      answer({ op: 'committed', batch: msg.batch });
    } catch (err) {
      // After an I/O error the connection may be unusable: open again on the next batch.
      close();
      answer({ op: 'failed', batch: msg.batch, ...failure(err) });
    }
  } else if (msg.op === 'ack' || msg.op === 'ackForward') {
    forget(msg.op, msg.uptoId);
  } else if (msg.op === 'close') {
    close();
    answer({ op: 'closed' });
    port.close();
  }
});

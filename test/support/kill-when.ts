/**
 * For crash tests: follow a child process's stdout line by line and SIGKILL it the moment a
 * condition on what it reported holds, so the kill lands while it is still working.
 */
import type { ChildProcess } from 'node:child_process';

/**
 * Hands every complete stdout line to `onLine`; once `ready()` holds after a chunk, SIGKILLs the
 * child. Resolves with the signal the child ended by; rejects when it exits before, or when
 * `ready()` does not hold within `timeoutMs` (the message says `progress()`).
 */
export async function killWhen(child: ChildProcess, onLine: (line: string) => void, ready: () => boolean, progress: () => string, timeoutMs = 60_000): Promise<NodeJS.Signals | null> {
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the child did not get there in ${timeoutMs / 1000} s: ${progress()}`)), timeoutMs);
    let buf = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const line of lines) onLine(line);
      if (ready()) {
        clearTimeout(timer);
        child.kill('SIGKILL');
        resolve();
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      reject(new Error(`the child exited early: ${progress()}`));
    });
  });
  return exited;
}

/**
 * Reads a password for the CLI: on a terminal, asked twice without echo; otherwise the first line
 * of standard input (for scripts: `printf '%s\n' "$PW" | precall users add …`).
 */
import { createInterface } from 'node:readline';

export async function readPassword(prompt: string, input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Promise<string> {
  if (input.isTTY !== true) return firstLine(input);
  const first = await askHidden(prompt, input, output);
  const again = await askHidden('again: ', input, output);
  if (first !== again) throw new Error('the two passwords differ');
  return first;
}

function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input, terminal: false });
    let done = false;
    rl.once('line', (line) => {
      done = true;
      rl.close();
      resolve(line);
    });
    rl.once('close', () => (done ? undefined : reject(new Error('no password on standard input'))));
  });
}

function askHidden(prompt: string, input: NodeJS.ReadStream, output: NodeJS.WriteStream): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input, output, terminal: true });
    // Echo nothing of what is typed: only the prompt is written.
    const write = (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput;
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.startsWith(prompt)) write.call(rl, prompt);
    };
    rl.question(prompt, (answer) => {
      output.write('\n');
      rl.close();
      resolve(answer);
    });
  });
}

// Running the CLI in-process for tests: an Io that keeps what a command printed, and `runCli`, which
// returns its exit code with both streams.
import { main, type Io } from '../lib/cli.js';

export type CapturedIo = Io & { out: string; err: string };

export function capture(stdin = ''): CapturedIo {
  const io: CapturedIo = {
    out: '',
    err: '',
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    readStdin: () => stdin,
  };
  return io;
}

export async function runCli(argv: string[]): Promise<{ code: number; err: string; out: string }> {
  const io = capture();
  const code = await main(argv, io);
  return { code, err: io.err, out: io.out };
}

import { ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A child process of the harness (app or ceiling), with its output kept for diagnostics. */
export interface Child<Ready> {
  proc: ChildProcess;
  ready: Ready;
  output: string[];
  request<T>(message: Record<string, unknown>, replyType: string, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts `lib/<name>` (compiled .js, or .ts through ts-node when the harness itself runs as TS). `wrap`: a
 * command and its arguments that run node (`['valgrind', '--tool=callgrind', ...]`), the IPC channel kept.
 */
export async function startChild<Ready>(name: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000, nodeArgs: string[] = [], wrap: string[] = []): Promise<Child<Ready>> {
  const ts = __filename.endsWith('.ts');
  const file = join(__dirname, `${name}.${ts ? 'ts' : 'js'}`);
  const execArgv = [...(ts ? ['-r', 'ts-node/register/transpile-only'] : []), ...nodeArgs];
  const proc = fork(file, [], {
    env,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    ...(wrap.length > 0 ? { execPath: wrap[0], execArgv: [...wrap.slice(1), process.execPath, ...execArgv] } : { execArgv }),
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(chunk.toString('utf8'));
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  let seq = 0;
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs} ms:\n${output.join('')}`)), timeoutMs);
    proc.on('message', (m: { type?: string }) => {
      if (m?.type === 'ready') {
        clearTimeout(timer);
        resolve(m as Ready);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited with ${code} before it was ready:\n${output.join('')}`));
    });
  });
  return {
    proc,
    ready,
    output,
    request<T>(message: Record<string, unknown>, replyType: string, ms = 300_000): Promise<T> {
      const id = ++seq;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${name}: no ${replyType} within ${ms} ms`)), ms);
        const onMessage = (m: { type?: string; id?: number; error?: string }) => {
          if (m?.type !== replyType || m.id !== id) return;
          clearTimeout(timer);
          proc.off('message', onMessage);
          if (m.error) reject(new Error(`${name}: ${m.error}`));
          else resolve(m as T);
        };
        proc.on('message', onMessage);
        proc.send({ ...message, id });
      });
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((r) => proc.once('exit', () => r()));
      proc.send({ cmd: 'stop' });
      const timer = setTimeout(() => proc.kill('SIGKILL'), wrap.length > 0 ? 120_000 : 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resident set of a process now, in MB (Linux /proc). */
export function rssMb(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples a process's RSS every 100 ms while `work` runs; returns the peak seen. */
export async function withPeakRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; peakMb: number }> {
  let peak = rssMb(pid) ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, rssMb(pid) ?? 0);
  }, 100);
  try {
    const result = await work();
    peak = Math.max(peak, rssMb(pid) ?? 0);
    return { result, peakMb: peak };
  } finally {
    clearInterval(timer);
  }
}

/** CPU time (user + system) a process has used so far, in ms (Linux /proc; clock ticks of 10 ms). */
export function cpuMs(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

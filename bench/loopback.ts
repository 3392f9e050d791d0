/**
 * `npm run bench:loopback`: what one round trip between two processes over loopback TCP costs on this machine, in
 * CPU, on each side: the unit every other benchmark's round trips are made of (a statement to Postgres, a Redis
 * command, a Kafka produce, a Graph request to the emulator, an HTTP answer).
 *
 * A Node echo server in its own process; the bench writes a 64-byte message and waits for its echo, BENCH_LOOPBACK_N
 * (20,000) times: one at a time. Baseline, in the same run: the same messages 64 to a write (each write's echo
 * awaited), as a pipelined or batched client sends them. And, to tell the kernel's TCP work from the wake-up of
 * another process, the one-at-a-time run against an echo server in the bench's own process. The CPU of each side
 * is read from /proc (the server) and `process.cpuUsage` (the bench), per message.
 * `ratio` = CPU per message (both sides) batched / one at a time: how much of a lone round trip is its own cost.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { cpuSeconds } from './proc';
import { report } from './report';

const N = Number(process.env.BENCH_LOOPBACK_N ?? 20_000);
const MESSAGE_BYTES = 64;
const PER_WRITE = 64;

const ECHO = `const net = require('node:net');
const server = net.createServer((s) => { s.setNoDelay(true); s.on('data', (d) => s.write(d)); });
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;

async function startEcho(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`echo server exited ${code}`)));
  });
  return { port, child };
}

function startEchoHere(): Promise<{ port: number; server: net.Server }> {
  const server = net.createServer((s) => {
    s.setNoDelay(true);
    s.on('data', (d) => s.write(d));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as net.AddressInfo).port, server }),
    ),
  );
}

/** `writes` writes of `perWrite` messages, each write's echo awaited before the next: the bench's CPU and wall */
async function pingPong(
  port: number,
  writes: number,
  perWrite: number,
): Promise<{ benchCpuS: number; wallS: number }> {
  const socket = net.connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const payload = Buffer.alloc(MESSAGE_BYTES * perWrite, 7);
  let waiting = 0;
  let done: (() => void) | undefined;
  socket.on('data', (d: Buffer) => {
    waiting -= d.length;
    if (waiting <= 0 && done) {
      const d2 = done;
      done = undefined;
      d2();
    }
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < writes; i += 1) {
    waiting = payload.length;
    await new Promise<void>((resolve) => {
      done = resolve;
      socket.write(payload);
    });
  }
  const wallS = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  socket.destroy();
  return { benchCpuS: (cpu.user + cpu.system) / 1e6, wallS };
}

interface Mode {
  name: string;
  messages: number;
  roundTripsPerSecond: number;
  /** CPU per message, µs */
  benchUs: number;
  /** undefined when the server runs in the bench's own process (its CPU is in `benchUs`) */
  serverUs: number | undefined;
  bothUs: number;
}

async function main(): Promise<void> {
  const load1AtStart = os.loadavg()[0];
  const echo = await startEcho();
  const here = await startEchoHere();
  try {
    const measure = async (name: string, port: number, pid: number | undefined, perWrite: number) => {
      const writes = Math.max(1, Math.round(N / perWrite));
      await pingPong(port, Math.min(writes, 500), perWrite); // warm-up
      const server0 = cpuSeconds(pid);
      const r = await pingPong(port, writes, perWrite);
      const serverS = pid === undefined ? 0 : cpuSeconds(pid) - server0;
      const messages = writes * perWrite;
      const us = (s: number) => Math.round((s * 1e6) / messages);
      return {
        name,
        messages,
        roundTripsPerSecond: Math.round(writes / r.wallS),
        benchUs: us(r.benchCpuS),
        serverUs: pid === undefined ? undefined : us(serverS),
        bothUs: us(r.benchCpuS + serverS),
      } satisfies Mode;
    };
    const alone = await measure('one at a time, another process', echo.port, echo.child.pid, 1);
    const batched = await measure(
      `${PER_WRITE} per write, another process`,
      echo.port,
      echo.child.pid,
      PER_WRITE,
    );
    const sameProcess = await measure('one at a time, the same process', here.port, undefined, 1);
    const rows = [
      ['mode', 'messages', 'writes answered/s', 'bench CPU µs/msg', 'server CPU µs/msg', 'both µs/msg'],
      ...[alone, batched, sameProcess].map((m) => [
        m.name,
        String(m.messages),
        String(m.roundTripsPerSecond),
        String(m.benchUs),
        m.serverUs === undefined ? '(in bench)' : String(m.serverUs),
        String(m.bothUs),
      ]),
    ];
    report('loopback', rows, {
      name: 'loopback',
      date: new Date().toISOString(),
      cores: os.cpus().length,
      load1AtStart: Number(load1AtStart.toFixed(2)),
      load1AtEnd: Number(os.loadavg()[0].toFixed(2)),
      messageBytes: MESSAGE_BYTES,
      modes: [alone, batched, sameProcess],
      ratio: Number((batched.bothUs / Math.max(1, alone.bothUs)).toFixed(3)),
    } as { ratio: number });
  } finally {
    echo.child.kill();
    here.server.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});

/**
 * The scale scenario's client, run INSIDE the client namespace: it asks each of many VIPs "who
 * are you?" (HTTP GET, fresh connection each time, like test/lab/prober.ts) until every one has
 * been answered by --want, and reports when each was.
 *
 * Every VIP not yet answered by --want is probed again --interval ms after its last probe (or
 * --relative of the time since go, if longer; see `go`), never with two probes in flight. With --wait-go
 * it probes nothing until a line `go` arrives on stdin, so the harness can start it ahead of the
 * fault and mark the fault itself.
 *
 * stdout, one JSON line each: `{"ready":true}`; `{"vip","sentAt","latencyMs"}` for the first probe
 * --want answered, per VIP; then `{"done":true,"probes":N}` or, at --deadline ms after go,
 * `{"timeout":true,"pending":[…],"probes":N}`. Times are ms since --epoch (a hrtime value of the
 * harness: CLOCK_MONOTONIC, shared across namespaces).
 *
 *   node --import tsx test/bench/multiprober.ts --vips 10.77.0.100,10.77.0.101 --port 8080 \
 *     --want cookbook2 --interval 25 --relative 0.02 --timeout 150 --deadline 60000 --epoch <ns> [--wait-go]
 */
import net from 'node:net';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    vips: { type: 'string' },
    port: { type: 'string', default: '8080' },
    want: { type: 'string' },
    interval: { type: 'string', default: '25' },
    timeout: { type: 'string', default: '150' },
    relative: { type: 'string', default: '0.02' },
    deadline: { type: 'string', default: '60000' },
    epoch: { type: 'string', default: '0' },
    'wait-go': { type: 'boolean', default: false },
  },
});
if (values.vips === undefined || values.want === undefined) throw new Error('multiprober: --vips and --want are required');
const vips = values.vips.split(',');
const want = values.want;
const port = Number(values.port);
const intervalMs = Number(values.interval);
const timeoutMs = Number(values.timeout);
const relative = Number(values.relative);
const deadlineMs = Number(values.deadline);
/** How often the scheduler looks for VIPs due a probe. */
const TICK_MS = 5;
const epoch = BigInt(values.epoch ?? '0');

const now = (): number => Number(process.hrtime.bigint() - epoch) / 1e6;
const round3 = (ms: number): number => Math.round(ms * 1000) / 1000;
const emit = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);

const pending = new Set(vips);
const inFlight = new Set<string>();
let probes = 0;
let timer: NodeJS.Timeout | undefined;

/**
 * One GET over a plain TCP connection (HTTP/1.0, the server closes): cheaper than node:http,
 * which matters at a hundred VIPs per round on two cores.
 */
function probe(vip: string): void {
  const sentAt = now();
  inFlight.add(vip);
  probes++;
  let settled = false;
  let data = '';
  const finish = (host: string | null): void => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    sock.destroy();
    inFlight.delete(vip);
    if (host === want && pending.delete(vip)) {
      emit({ vip, sentAt: round3(sentAt), latencyMs: round3(now() - sentAt) });
      if (pending.size === 0) {
        emit({ done: true, probes });
        process.exit(0);
      }
    }
  };
  const deadline = setTimeout(() => finish(null), timeoutMs);
  const sock = net.connect({ host: vip, port }, () => sock.end(`GET / HTTP/1.0\r\nHost: ${vip}\r\n\r\n`));
  sock.setEncoding('utf8');
  sock.on('data', (d: string) => (data += d));
  sock.on('end', () => {
    const split = data.indexOf('\r\n\r\n');
    finish(/^HTTP\/1\.[01] 200 /.test(data) && split >= 0 ? data.slice(split + 4).trim() : null);
  });
  sock.on('error', () => finish(null));
}

/**
 * Per VIP, the next probe goes out `max(--interval, --relative × time since go)` after the last
 * one was sent (and not while one is in flight): fine resolution for fast takeovers, a light
 * load (and an error of at most --relative) for slow ones that would otherwise be slowed down
 * by the probing itself.
 */
function go(): void {
  const start = now();
  const lastSent = new Map<string, number>();
  const tick = (): void => {
    const t = now();
    if (t - start > deadlineMs) {
      emit({ timeout: true, pending: [...pending], probes });
      process.exit(0);
    }
    const gap = Math.max(intervalMs, relative * (t - start));
    for (const vip of pending) {
      if (inFlight.has(vip) || t - (lastSent.get(vip) ?? -Infinity) < gap) continue;
      lastSent.set(vip, t);
      probe(vip);
    }
    timer = setTimeout(tick, TICK_MS);
  };
  tick();
}

process.on('SIGTERM', () => {
  clearTimeout(timer);
  process.exit(0);
});

emit({ ready: true });
if (values['wait-go']) {
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => go());
} else go();

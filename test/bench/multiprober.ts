/**
 * The scale scenario's client, run INSIDE the client namespace: it asks each of many VIPs "who
 * are you?" (HTTP GET, fresh connection each time, like test/lab/prober.ts) until every one has
 * been answered by --want, and reports when each was.
 *
 * Rounds start every --interval ms; in each, every VIP not yet answered by --want and with no
 * probe in flight gets one GET (so a VIP costs at most one connection at a time). With --wait-go
 * it probes nothing until a line `go` arrives on stdin, so the harness can start it ahead of the
 * fault and mark the fault itself.
 *
 * stdout, one JSON line each: `{"ready":true}`; `{"vip","sentAt","latencyMs"}` for the first probe
 * --want answered, per VIP; then `{"done":true,"probes":N}` or, at --deadline ms after go,
 * `{"timeout":true,"pending":[…],"probes":N}`. Times are ms since --epoch (a hrtime value of the
 * harness: CLOCK_MONOTONIC, shared across namespaces).
 *
 *   node --import tsx test/bench/multiprober.ts --vips 10.77.0.100,10.77.0.101 --port 8080 \
 *     --want cookbook2 --interval 25 --timeout 150 --deadline 60000 --epoch <ns> [--wait-go]
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
const deadlineMs = Number(values.deadline);
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

function go(): void {
  const start = now();
  let slot = 0;
  const tick = (): void => {
    if (now() - start > deadlineMs) {
      emit({ timeout: true, pending: [...pending], probes });
      process.exit(0);
    }
    for (const vip of pending) if (!inFlight.has(vip)) probe(vip);
    const t = now();
    slot = Math.max(slot + 1, Math.ceil((t - start) / intervalMs));
    timer = setTimeout(tick, start + slot * intervalMs - t);
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addressChanges, failures, firstAnswerFrom, longestGap, servedBy, type ProbeRecord } from './analysis.js';

/** Probes every 10 ms; `who(t)` says who answered the one sent at t (null = failed). */
function series(from: number, to: number, who: (t: number) => string | null): ProbeRecord[] {
  const out: ProbeRecord[] = [];
  for (let t = from; t <= to; t += 10) out.push({ sentAt: t, host: who(t), latencyMs: 1 });
  return out.reverse(); // completion order differs from sending order; analysis must not care
}

// a serves until 100, nothing answers 110..290, b serves from 300
const failover = series(0, 500, (t) => (t <= 100 ? 'a' : t >= 300 ? 'b' : null));

test('firstAnswerFrom finds the earliest answer at or after the bound', () => {
  assert.equal(firstAnswerFrom(failover, 'b')?.sentAt, 300);
  assert.equal(firstAnswerFrom(failover, 'a', 50)?.sentAt, 50);
  assert.equal(firstAnswerFrom(failover, 'a', 101), undefined);
  assert.equal(firstAnswerFrom([], 'a'), undefined);
});

test('longestGap spans the outage, anchored on the successes around it', () => {
  // the window starts inside the outage: the last success before it (100) still anchors the gap
  assert.deepEqual(longestGap(failover, 150, 400), { ms: 200, start: 100, end: 300, open: false });
  assert.deepEqual(longestGap(failover, 0, 500), { ms: 200, start: 100, end: 300, open: false });
  // a window ending inside the outage still sees the success after it
  assert.deepEqual(longestGap(failover, 0, 200), { ms: 200, start: 100, end: 300, open: false });
  // healthy window: the probe interval
  assert.equal(longestGap(failover, 320, 480).ms, 10);
});

test('longestGap marks gaps that reach a window bound with no success beyond it as open', () => {
  const neverRecovers = series(0, 500, (t) => (t <= 100 ? 'a' : null));
  assert.deepEqual(longestGap(neverRecovers, 50, 600), { ms: 500, start: 100, end: 600, open: true });
  const startsDown = series(0, 500, (t) => (t >= 200 ? 'b' : null));
  assert.deepEqual(longestGap(startsDown, 0, 500), { ms: 200, start: 0, end: 200, open: true });
  assert.deepEqual(longestGap([], 10, 20), { ms: 10, start: 10, end: 20, open: true });
  assert.throws(() => longestGap(failover, 20, 10), RangeError);
});

test('longestGap ignores failed probes between successes and unsorted input', () => {
  const recs: ProbeRecord[] = [
    { sentAt: 40, host: 'a', latencyMs: 1 },
    { sentAt: 0, host: 'a', latencyMs: 1 },
    { sentAt: 25, host: null, latencyMs: 200, error: 'timeout' },
    { sentAt: 10, host: 'a', latencyMs: 1 },
  ];
  assert.deepEqual(longestGap(recs, 0, 40), { ms: 30, start: 10, end: 40, open: false });
});

test('servedBy counts successful probes per host inside the window, bounds inclusive', () => {
  assert.deepEqual(servedBy(failover), { a: 11, b: 21 });
  assert.deepEqual(servedBy(failover, { from: 100, to: 300 }), { a: 1, b: 1 });
  assert.deepEqual(servedBy(failover, { from: 300 }), { b: 21 });
  assert.deepEqual(servedBy(failover, { from: 110, to: 290 }), {});
  assert.equal(failures(failover, { from: 110, to: 290 }), 19);
  assert.equal(failures(failover), 19);
});

test('addressChanges reads the VIP\'s adds, renewals and deletes from ip -ts monitor, and nothing else', () => {
  // Captured from iproute2 6.1 in a namespace (TZ=UTC), plus another address that must be ignored.
  const output = [
    '[2026-11-30T18:20:12.822528] 3: eth0    inet 10.77.0.100/24 scope global dynamic eth0\\       valid_lft 5sec preferred_lft 5sec',
    '[2026-11-30T18:20:12.825001] 3: eth0    inet 10.77.0.101/24 scope global eth0\\       valid_lft forever preferred_lft forever',
    '[2026-11-30T18:20:12.827424] 3: eth0    inet 10.77.0.100/24 scope global dynamic eth0\\       valid_lft 6sec preferred_lft 6sec',
    '[2026-11-30T18:20:12.833400] Deleted 3: eth0    inet 10.77.0.100/24 scope global dynamic eth0\\       valid_lft 6sec preferred_lft 6sec',
    '',
  ].join('\n');
  const base = Date.parse('2026-11-30T18:20:12.822Z');
  assert.deepEqual(
    addressChanges(output, '10.77.0.100').map((c) => ({ ms: c.at - base, present: c.present })),
    [
      { ms: 0, present: true },
      { ms: 5, present: true },
      { ms: 11, present: false },
    ],
  );
});

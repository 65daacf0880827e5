import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeTime } from '../../../test/support/fake-time.js';
import { createBackoff } from './backoff.js';
import { createExecutor, type ExecutorStep } from './executor.js';
import { createLatestWriter } from './latest.js';
import { createSerial } from './serial.js';

test('backoff doubles up to its cap and starts over after a reset; nonsense bounds are refused', () => {
  const b = createBackoff(100, 500);
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [100, 200, 400, 500, 500]);
  b.reset();
  assert.equal(b.next(), 100);
  assert.throws(() => createBackoff(0, 10), /0 < min ≤ max/);
  assert.throws(() => createBackoff(20, 10), /0 < min ≤ max/);
});

test('serial: one at a time, in order, each after the one before settled, failures the caller’s only', async () => {
  const s = createSerial();
  const log: string[] = [];
  let release: () => void = () => {};
  const first = s.run(() => new Promise<string>((r) => (release = () => r('first')))).then((v) => void log.push(v));
  const second = s.run(async () => {
    log.push('second started');
    throw new Error('second failed');
  });
  const third = s.run(async () => void log.push('third'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(log, [], 'nothing overtakes the first');
  release();
  await first;
  await assert.rejects(second, /second failed/);
  await third;
  await s.idle();
  assert.deepEqual(log, ['first', 'second started', 'third']);
});

interface TestStep extends ExecutorStep<'vip' | 'container'> {
  readonly name: string;
}

function harness(time: FakeTime) {
  const done: string[] = [];
  const failures: string[] = [];
  const behaviour = new Map<string, 'fail' | 'hang'>();
  const unwanted = new Set<string>();
  const executor = createExecutor<'vip' | 'container', TestStep>({
    lanes: ['vip', 'container'],
    timers: time,
    perform: async (step) => {
      const b = behaviour.get(step.name);
      if (b === 'hang') await new Promise(() => {});
      if (b === 'fail') throw new Error(`${step.name} failed`);
      done.push(step.name);
    },
    wanted: (step) => !unwanted.has(step.name),
    onFailure: (step, _err, retryInMs) => void failures.push(`${step.name} ${retryInMs ?? 'ends the plan'}`),
  });
  return { executor, done, failures, behaviour, unwanted };
}

const step = (name: string, lane: 'vip' | 'container', retry = false): TestStep => ({ name, lane, retry });

test('executor: a plan runs its steps in order; a hung step holds its own lane only', async () => {
  const time = new FakeTime(0);
  const h = harness(time);
  h.behaviour.set('docker start', 'hang');
  void h.executor.run([step('assign', 'vip'), step('docker start', 'container')]);
  await time.advance(1);
  const renewal = h.executor.run([step('renew', 'vip')]);
  const nextContainer = h.executor.run([step('docker pause', 'container')]);
  assert.equal(await renewal, 'done');
  await time.advance(10_000);
  assert.deepEqual(h.done, ['assign', 'renew'], 'the renewal went by; the pause waits behind the hung start');
  let settled = false;
  void nextContainer.then(() => (settled = true));
  await time.advance(1);
  assert.equal(settled, false);
});

test('executor: a failing retried step is retried with backoff while wanted, then the plan is dropped', async () => {
  const time = new FakeTime(0);
  const h = harness(time);
  h.behaviour.set('assign', 'fail');
  const outcome = h.executor.run([step('assign', 'vip', true), step('report', 'vip')]);
  await time.advance(100 + 200 + 400);
  assert.deepEqual(h.failures, ['assign 100', 'assign 200', 'assign 400', 'assign 800']);
  h.behaviour.delete('assign');
  await time.advance(800);
  assert.equal(await outcome, 'done');
  assert.deepEqual(h.done, ['assign', 'report']);

  h.behaviour.set('remove', 'fail');
  const dropped = h.executor.run([step('remove', 'vip', true), step('report released', 'vip')]);
  await time.advance(50);
  h.unwanted.add('remove');
  await time.advance(100);
  assert.equal(await dropped, 'dropped', 'no longer wanted: neither retried nor followed');
  assert.deepEqual(h.done, ['assign', 'report']);
});

test('executor: a step that fails without retry ends its plan; one not wanted when its turn comes is dropped with the rest', async () => {
  const time = new FakeTime(0);
  const h = harness(time);
  h.behaviour.set('restore', 'fail');
  assert.equal(await h.executor.run([step('restore', 'vip'), step('announce', 'vip')]), 'failed');
  assert.deepEqual(h.failures, ['restore ends the plan']);
  h.unwanted.add('container acquire');
  assert.equal(await h.executor.run([step('container acquire', 'container'), step('after', 'vip')]), 'dropped');
  assert.deepEqual(h.done, []);
});

test('executor: cancel ends retry waits at once and runs nothing more', async () => {
  const time = new FakeTime(0);
  const h = harness(time);
  h.behaviour.set('assign', 'fail');
  const outcome = h.executor.run([step('assign', 'vip', true)]);
  await time.advance(100);
  h.executor.cancel();
  assert.equal(await outcome, 'cancelled');
  assert.equal(await h.executor.run([step('late', 'vip')]), 'cancelled');
  await h.executor.idle();
  assert.deepEqual(h.done, []);
});

/** A store write the test completes by hand, in any order. */
function manualStore() {
  const inFlight: { value: string; done: (err?: Error) => void }[] = [];
  const committed: string[] = [];
  const write = (value: string) =>
    new Promise<void>((resolve, reject) => {
      inFlight.push({ value, done: (err) => (err === undefined ? (committed.push(value), resolve()) : reject(err)) });
    });
  const settled = () => new Promise((r) => setImmediate(r));
  return { inFlight, committed, write, settled };
}

test('latest writer: one write in flight; meanwhile only the newest value waits, and is written once the first completed', async () => {
  const store = manualStore();
  const writer = createLatestWriter(store.write);
  const outcomes: string[] = [];
  for (const v of ['on', 'off', 'on again', 'off again']) void writer.write(v).then(() => outcomes.push(`${v} written`));
  await store.settled();
  assert.deepEqual(store.inFlight.map((w) => w.value), ['on'], 'the others wait for it');
  store.inFlight.shift()!.done();
  await store.settled();
  assert.deepEqual(store.inFlight.map((w) => w.value), ['off again'], 'the newest replaced the two before it');
  assert.deepEqual(outcomes, ['on written']);
  store.inFlight.shift()!.done();
  await store.settled();
  assert.deepEqual(store.committed, ['on', 'off again']);
  assert.deepEqual(outcomes, ['on written', 'off written', 'on again written', 'off again written'], 'a replaced value settles with the write that replaced it');
});

test('latest writer: a failed write fails its callers only, and the next value is still written after it', async () => {
  const store = manualStore();
  const writer = createLatestWriter(store.write);
  const first = writer.write('on');
  const second = writer.write('off');
  await store.settled();
  store.inFlight.shift()!.done(new Error('no member answered'));
  await assert.rejects(first, /no member answered/);
  await store.settled();
  assert.deepEqual(store.inFlight.map((w) => w.value), ['off']);
  store.inFlight.shift()!.done();
  await second;
  assert.deepEqual(store.committed, ['off']);
});

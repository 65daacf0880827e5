/**
 * Candidacy for election: etcd (candidacy.ts): what each setting means when etcd decides, the
 * same as in the heartbeat election: health, maintenance, standby, takeover, preference, priority.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CandidateRecord, StoreView } from '../domain/election.js';
import { judge, type CandidacyInput } from './candidacy.js';

const fit = (priority = 0, more: Partial<CandidateRecord> = {}): CandidateRecord => ({ priority, healthy: true, standby: false, maintenance: false, ...more });

function view(candidates: Record<string, CandidateRecord>, holder: string | null, takeover: StoreView['takeover'] = null): StoreView {
  return { candidates: new Map(Object.entries(candidates)), holders: new Map(holder === null ? [] : [['web', holder]]), holderLeases: new Map(), takeover };
}

function input(self: string, v: StoreView, more: Partial<CandidacyInput> = {}): CandidacyInput {
  return { self, group: { id: 'web', preferred: null }, autoFailback: true, view: v, own: v.candidates.get(self) ?? fit(), standing: true, vacantForMs: 0, vacantGraceMs: 1000, fresh: false, ...more };
}

test('a vacant group: only the best candidate campaigns at once; the others after the grace', () => {
  const v = view({ alpha: fit(10), beta: fit(50) }, null);
  assert.deepEqual(judge(input('beta', v)), { kind: 'campaign', reason: 'elected' });
  assert.deepEqual(judge(input('alpha', v)), { kind: 'wait', holder: null });
  assert.deepEqual(judge(input('alpha', v, { vacantForMs: 1000 })), { kind: 'campaign', reason: 'vacant' });
  // just registered, the best cannot know it is: it waits the grace like the others
  assert.deepEqual(judge(input('beta', v, { fresh: true })), { kind: 'wait', holder: null });
  assert.deepEqual(judge(input('beta', v, { fresh: true, vacantForMs: 1000 })), { kind: 'campaign', reason: 'vacant' });
});

test('the holder keeps the group over a higher priority (holder before priority), and gives it to the preferred node with auto_failback', () => {
  const v = view({ alpha: fit(10), beta: fit(50) }, 'alpha');
  assert.deepEqual(judge(input('alpha', v)), { kind: 'hold', reason: 'elected' });
  assert.deepEqual(judge(input('beta', v)), { kind: 'wait', holder: 'alpha' });
  assert.deepEqual(judge(input('alpha', v, { group: { id: 'web', preferred: 'beta' } })), { kind: 'resign', reason: 'failback:beta' });
  assert.deepEqual(judge(input('alpha', v, { group: { id: 'web', preferred: 'beta' }, autoFailback: false })), { kind: 'hold', reason: 'elected' });
});

test('standby hands the group to any other eligible candidate, but holds when it is alone', () => {
  const standbyAlpha = fit(0, { standby: true });
  assert.deepEqual(judge(input('alpha', view({ alpha: standbyAlpha, beta: fit() }, 'alpha'))), { kind: 'resign', reason: 'standby' });
  assert.deepEqual(judge(input('alpha', view({ alpha: standbyAlpha }, 'alpha'))), { kind: 'hold', reason: 'elected' });
  // standby as known locally counts before etcd has it
  assert.deepEqual(judge(input('alpha', view({ alpha: fit(), beta: fit() }, 'alpha'), { own: standbyAlpha })), { kind: 'resign', reason: 'standby' });
});

test('the latest takeover wins over the holder and the preferred node', () => {
  const v = view({ alpha: fit(), beta: fit() }, 'alpha', { node: 'beta', epoch: 42 });
  assert.deepEqual(judge(input('alpha', v, { group: { id: 'web', preferred: 'alpha' } })), { kind: 'resign', reason: 'takeover:beta' });
});

test('maintenance resigns even alone; an unhealthy holder resigns only to a fit candidate', () => {
  assert.deepEqual(judge(input('alpha', view({ alpha: fit(0, { maintenance: true }) }, 'alpha'))), { kind: 'resign', reason: 'maintenance' });
  const sick = fit(0, { healthy: false });
  assert.deepEqual(judge(input('alpha', view({ alpha: sick, beta: fit() }, 'alpha'))), { kind: 'resign', reason: 'unhealthy' });
  assert.deepEqual(judge(input('alpha', view({ alpha: sick, beta: fit(0, { healthy: false }) }, 'alpha'))), { kind: 'hold', reason: 'least-unfit' });
  // and an unfit or maintained node never campaigns
  assert.deepEqual(judge(input('alpha', view({ alpha: sick }, null), { vacantForMs: 60_000 })), { kind: 'wait', holder: null });
});

test('a node whose fence has passed neither holds nor campaigns, and others do not count it', () => {
  assert.deepEqual(judge(input('alpha', view({ alpha: fit(99) }, 'alpha'), { standing: false })), { kind: 'resign', reason: 'fence' });
  assert.deepEqual(judge(input('alpha', view({ alpha: fit(99) }, null), { standing: false, vacantForMs: 60_000 })), { kind: 'wait', holder: null });
  assert.deepEqual(judge(input('beta', view({ beta: fit(1) }, null))), { kind: 'campaign', reason: 'elected' });
});

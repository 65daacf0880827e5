/**
 * The planners, table-driven: each row is a situation (claims, what the interfaces hold) and the
 * steps it must produce, written out as `lane:step` in order.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GroupSpec, Vip } from '../domain/groups.js';
import type { Claim } from '../domain/claims.js';
import { planAcquire, planContainerReconcile, planDriftRepair, planRelease, planRenewal, type PlannedStep } from './plan.js';

const vip = (address: string): Vip => ({ address, prefixLength: 24, iface: 'eth0', label: null, family: 4 });
const WEB: GroupSpec = { id: 'web', preferred: 'alpha', vips: [vip('10.0.0.100'), vip('10.0.0.101')] };
const DB: GroupSpec = { id: 'db', preferred: 'beta', vips: [vip('10.0.0.200')] };
const GROUPS = [WEB, DB];

/** A plan as one readable line per step: lane, the claim it needs, retry, what it does. */
function show(plan: readonly PlannedStep[]): string[] {
  return plan.map((p) => {
    const s = p.step;
    const what =
      s.do === 'assign' || s.do === 'remove'
        ? `${s.do} ${s.group} ${s.vips.map((v) => v.address).join(',')} (${s.purpose})`
        : s.do === 'renew'
          ? `renew ${s.groups.map((g) => `${g.group}=${g.vips.map((v) => v.address).join(',')}`).join(' ')}`
          : s.do === 'report'
            ? `report ${s.group} ${s.event}`
            : s.do === 'announce'
              ? `announce ${s.group}${s.repeats ? ' with repeats' : ''}`
              : `container ${s.group} ${s.step}${s.step === 'reconcile' ? (s.holding ? ' holding' : ' standby') : ''}`;
    return `${p.lane} [${p.while ?? 'any'}${p.retry ? ', retried' : ''}] ${what}`;
  });
}

const claims = (c: Record<string, Claim>) => (g: string) => c[g] ?? 'none';

test('acquire: VIPs, the engine told, the announcement, then the container', () => {
  const rows: { situation: string; hasResources: boolean; steps: string[] }[] = [
    {
      situation: 'a group with a protected container',
      hasResources: true,
      steps: [
        'vip [acquiring, retried] assign web 10.0.0.100,10.0.0.101 (acquire)',
        'vip [acquiring] report web acquired',
        'vip [held] announce web with repeats',
        'container [held] container web acquire',
      ],
    },
    {
      situation: 'no container on this node',
      hasResources: false,
      steps: ['vip [acquiring, retried] assign web 10.0.0.100,10.0.0.101 (acquire)', 'vip [acquiring] report web acquired', 'vip [held] announce web with repeats'],
    },
  ];
  for (const row of rows) assert.deepEqual(show(planAcquire(WEB, row.hasResources)), row.steps, row.situation);
});

test('release: the reverse, the container first, the engine told last', () => {
  const rows: { situation: string; hasResources: boolean; steps: string[] }[] = [
    {
      situation: 'a group with a protected container',
      hasResources: true,
      steps: ['container [releasing] container web release', 'vip [releasing, retried] remove web 10.0.0.100,10.0.0.101 (release)', 'vip [releasing] report web released'],
    },
    {
      situation: 'no container on this node',
      hasResources: false,
      steps: ['vip [releasing, retried] remove web 10.0.0.100,10.0.0.101 (release)', 'vip [releasing] report web released'],
    },
  ];
  for (const row of rows) assert.deepEqual(show(planRelease(WEB, row.hasResources)), row.steps, row.situation);
});

test('renewal: one batch of every held group, or nothing', () => {
  const rows: { situation: string; claims: Record<string, Claim>; steps: string[] }[] = [
    { situation: 'both held', claims: { web: 'held', db: 'held' }, steps: ['vip [any] renew web=10.0.0.100,10.0.0.101 db=10.0.0.200'] },
    { situation: 'one held, one on its way in', claims: { web: 'acquiring', db: 'held' }, steps: ['vip [any] renew db=10.0.0.200'] },
    { situation: 'one on its way out', claims: { web: 'releasing' }, steps: [] },
    { situation: 'nothing held', claims: {}, steps: [] },
  ];
  for (const row of rows) assert.deepEqual(show(planRenewal(GROUPS, claims(row.claims))), row.steps, row.situation);
});

test('drift: a held VIP missing is restored and announced, one present unclaimed is removed, moving claims are left alone', () => {
  const rows: { situation: string; claims: Record<string, Claim>; present: string[]; repairing?: string[]; steps: string[] }[] = [
    { situation: 'all as claimed', claims: { web: 'held' }, present: ['10.0.0.100', '10.0.0.101', '10.0.0.5'], steps: [] },
    {
      situation: 'one of two held VIPs deleted by hand',
      claims: { web: 'held' },
      present: ['10.0.0.100'],
      steps: ['web restore 10.0.0.101: vip [held] assign web 10.0.0.100,10.0.0.101 (restore) | vip [held] announce web'],
    },
    {
      situation: 'a VIP added by hand on the standby',
      claims: { web: 'none' },
      present: ['10.0.0.101'],
      steps: ['web stray 10.0.0.101: vip [none] remove web 10.0.0.101 (stray)'],
    },
    { situation: 'acquiring: the VIP is not there yet', claims: { web: 'acquiring' }, present: [], steps: [] },
    { situation: 'releasing: the VIP is still there', claims: { web: 'releasing' }, present: ['10.0.0.100', '10.0.0.101'], steps: [] },
    { situation: 'a repair of it already under way', claims: { web: 'held' }, present: [], repairing: ['web'], steps: [] },
    {
      situation: 'both groups drifted, each its own way',
      claims: { web: 'held', db: 'none' },
      present: ['10.0.0.200'],
      steps: [
        'web restore 10.0.0.100,10.0.0.101: vip [held] assign web 10.0.0.100,10.0.0.101 (restore) | vip [held] announce web',
        'db stray 10.0.0.200: vip [none] remove db 10.0.0.200 (stray)',
      ],
    },
  ];
  for (const row of rows) {
    const repairs = planDriftRepair({ groups: GROUPS, claimOf: claims(row.claims), present: new Set(row.present), repairing: new Set(row.repairing ?? []) });
    assert.deepEqual(
      repairs.map((r) => `${r.group} ${r.kind} ${r.addresses.join(',')}: ${show(r.plan).join(' | ')}`),
      row.steps,
      row.situation,
    );
  }
});

test('container reconcile: each settled group to its role, none while its claim moves or one is still running', () => {
  const rows: { situation: string; claims: Record<string, Claim>; busy?: string[]; steps: string[] }[] = [
    { situation: 'holder of one, standby of the other', claims: { web: 'held' }, steps: ['container [held] container web reconcile holding', 'container [none] container db reconcile standby'] },
    { situation: 'claims moving', claims: { web: 'acquiring', db: 'releasing' }, steps: [] },
    { situation: 'a hung reconcile of web still queued', claims: { web: 'held' }, busy: ['web'], steps: ['container [none] container db reconcile standby'] },
  ];
  for (const row of rows) assert.deepEqual(show(planContainerReconcile(GROUPS, claims(row.claims), new Set(row.busy ?? []))), row.steps, row.situation);
});

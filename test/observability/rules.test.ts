/**
 * The shipped alert rules (compose/prometheus/heartbeat-sidecar.rules.yml): valid for promtool,
 * every alert tested firing and not firing by promtool's own rule tests, each with a severity and
 * a runbook section, and reading only metrics the daemon exports.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import YAML from 'yaml';
import { daemonRegistry, metricNamesIn, promtool, REPO, requirePromtool, RULES, RULES_TEST, seriesNames } from './promtool.js';

interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly labels?: Record<string, string>;
  readonly annotations?: Record<string, string>;
}

const alerts = (): AlertRule[] => (YAML.parse(fs.readFileSync(RULES, 'utf8')) as { groups: { rules: AlertRule[] }[] }).groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);

test('promtool check rules accepts the rules file', (t) => {
  if (!requirePromtool(t)) return;
  const r = promtool(['check', 'rules', RULES]);
  assert.equal(r.status, 0, r.output);
});

test('promtool test rules: every case passes', (t) => {
  if (!requirePromtool(t)) return;
  const r = promtool(['test', 'rules', path.basename(RULES_TEST)], { cwd: path.dirname(RULES_TEST) });
  assert.equal(r.status, 0, r.output);
});

test('every alert is tested firing and not firing', () => {
  const cases = (YAML.parse(fs.readFileSync(RULES_TEST, 'utf8')) as { tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[] }).tests.flatMap((x) => x.alert_rule_test ?? []);
  for (const { alert } of alerts()) {
    assert.ok(cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) > 0), `${alert}: no case where it fires`);
    assert.ok(cases.some((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) === 0), `${alert}: no case where it stays silent`);
  }
});

test('the worst cases have alerts: nobody scraped, held by nobody or by two, peer down, Docker, flapping, config drift, stalls', () => {
  const names = alerts().map((a) => a.alert);
  for (const name of ['NoSidecarScraped', 'SidecarDown', 'VipHeldByNobody', 'VipHeldTwice', 'PeerDown', 'DockerUnreachable', 'FrequentTransitions', 'ConfigsDiffer', 'TimerStalls']) {
    assert.ok(names.includes(name), `missing alert ${name}`);
  }
});

test('every alert has a severity, a summary and a runbook_url naming its section of docs/runbook.md', () => {
  const runbook = fs.readFileSync(path.join(REPO, 'docs/runbook.md'), 'utf8');
  const sections = new Set([...runbook.matchAll(/^## (\S+)$/gm)].map((m) => m[1]!.toLowerCase()));
  for (const a of alerts()) {
    assert.ok(['critical', 'warning'].includes(a.labels?.severity ?? ''), `${a.alert}: severity ${a.labels?.severity}`);
    assert.ok((a.annotations?.summary ?? '').length > 20, `${a.alert}: summary`);
    assert.equal(a.annotations?.runbook_url, `docs/runbook.md#${a.alert.toLowerCase()}`, a.alert);
    assert.ok(sections.has(a.alert.toLowerCase()), `docs/runbook.md has no section "## ${a.alert}"`);
    const section = runbook.split(/^## /m).find((s) => s.startsWith(`${a.alert}\n`))!;
    for (const part of ['**Means.**', '**Check.**', '**Do.**']) assert.ok(section.includes(part), `runbook ${a.alert}: no ${part}`);
  }
});

test('every metric an alert reads exists in the registry', async () => {
  const names = await seriesNames(daemonRegistry().registry);
  for (const a of alerts()) {
    const used = metricNamesIn(a.expr);
    assert.ok(used.length > 0, `${a.alert}: no metric found in ${a.expr}`);
    for (const name of used) assert.ok(names.has(name), `${a.alert} reads ${name}, which the daemon does not export`);
  }
});

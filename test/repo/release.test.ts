/**
 * The release: .github/workflows/release.yml is checked against GitHub's own workflow schema by
 * @actions/workflow-parser (the parser behind GitHub's Actions language service: unknown keys,
 * wrong types, expressions in places that do not allow them), then for what a release needs. The
 * Dockerfile carries the OCI labels the workflow fills in, and builds its compile stage on the
 * build platform so both CPUs build natively.
 *
 * Without the validator (node_modules not installed) the check skips, and fails with CI=true.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WORKFLOW = '.github/workflows/release.yml';
const read = (file: string): string => fs.readFileSync(path.join(REPO, file), 'utf8');

type WorkflowParser = typeof import('@actions/workflow-parser');

async function loadValidator(t: TestContext): Promise<WorkflowParser | null> {
  try {
    return await import('@actions/workflow-parser');
  } catch (err) {
    const why = `@actions/workflow-parser is not installed (npm ci): ${(err as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`the workflow cannot be validated in CI: ${why}`);
    t.skip(why);
    return null;
  }
}

/** Every schema error of a workflow file; each message names the file, line and column. */
async function schemaErrors(parser: WorkflowParser, name: string, content: string): Promise<string[]> {
  const parsed = parser.parseWorkflow({ name, content }, new parser.NoOperationTraceWriter());
  const errors = parsed.context.errors.getErrors().map((e) => e.message);
  if (errors.length > 0 || parsed.value === undefined) return errors;
  const template = await parser.convertWorkflowTemplate(parsed.context, parsed.value);
  return (template.errors ?? []).map((e) => e.Message);
}

test('the release workflow is valid for GitHub Actions', async (t) => {
  const parser = await loadValidator(t);
  if (parser === null) return;
  assert.deepEqual(await schemaErrors(parser, WORKFLOW, read(WORKFLOW)), []);
  // and the validator does reject: an unknown key, a job without runs-on, a bad expression
  const broken = 'on: push\npermisions: {}\njobs:\n  x:\n    steps:\n      - run: echo ${{ github. }}\n';
  assert.ok((await schemaErrors(parser, 'broken.yml', broken)).length >= 2, 'the validator finds nothing wrong with a broken workflow');
});

interface Step {
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
}

test('a v* tag builds and publishes the image for amd64 and arm64 on ghcr.io', () => {
  const wf = parse(read(WORKFLOW)) as { on: { push: { tags: string[] } }; permissions: Record<string, string>; jobs: Record<string, { steps: Step[] }> };
  assert.deepEqual(wf.on.push.tags, ['v*']);
  assert.equal(wf.permissions.packages, 'write', 'GITHUB_TOKEN may push to ghcr.io');
  const steps = Object.values(wf.jobs).flatMap((j) => j.steps);
  const step = (action: string): Step => {
    const found = steps.find((s) => s.uses?.startsWith(`${action}@`));
    assert.ok(found, `a step uses ${action}`);
    return found;
  };
  step('docker/setup-buildx-action');
  assert.equal(step('docker/login-action').with?.registry, 'ghcr.io');
  const build = step('docker/build-push-action').with ?? {};
  assert.deepEqual(String(build.platforms).split(',').map((p) => p.trim()).sort(), ['linux/amd64', 'linux/arm64']);
  assert.equal(build.push, true);
  const args = String(build['build-args']);
  for (const arg of ['VERSION', 'REVISION', 'SOURCE']) assert.match(args, new RegExp(`^${arg}=\\S`, 'm'), `build-args set ${arg}`);
});

test('the image carries OCI labels, version and revision from build args, and compiles on the build platform', () => {
  const dockerfile = read('Dockerfile');
  const label = (key: string): string | undefined => new RegExp(`org\\.opencontainers\\.image\\.${key}="([^"]*)"`).exec(dockerfile)?.[1];
  assert.equal(label('version'), '${VERSION}');
  assert.equal(label('revision'), '${REVISION}');
  assert.equal(label('source'), '${SOURCE}');
  assert.equal(label('licenses'), (JSON.parse(read('package.json')) as { license: string }).license);
  for (const arg of ['VERSION', 'REVISION', 'SOURCE']) assert.match(dockerfile, new RegExp(`^ARG ${arg}=`, 'm'));
  assert.match(dockerfile, /^FROM --platform=\$\{?BUILDPLATFORM[:}\-\w/]* \$\{NODE_IMAGE\} AS build$/m);
  assert.match(dockerfile, /^ARG BUILDPLATFORM$/m, 'declared, so the classic builder can be given it');
});

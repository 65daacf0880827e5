/**
 * For harness.test.ts only: builds a lab with live processes, prints what it made as one JSON
 * line, then dies the way argv[2] says (throw | reject | wait-for-a-signal), so the test can
 * check that the exit hooks leave nothing behind.
 */
import { createLab } from './netns.js';

const mode = process.argv[2] ?? 'signal';
const lab = await createLab({ hosts: ['a'], name: `fixture-${mode}` });
const sleeper = lab.spawn('a', ['sleep', '600']);
const httpd = await lab.startResponder('a');
console.log(JSON.stringify({ namespaces: lab.namespaces, pids: [sleeper.pid, httpd.child.pid], dir: lab.dir }));

if (mode === 'throw') {
  setTimeout(() => {
    throw new Error('fixture: uncaught exception');
  }, 20);
} else if (mode === 'reject') {
  setTimeout(() => void Promise.reject(new Error('fixture: unhandled rejection')), 20);
} else {
  setInterval(() => {}, 60_000); // stay alive until the test signals us
}

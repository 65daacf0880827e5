/** Test support: configuration files written into throw-away directories under one root. */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Scratch {
  /** A fresh directory holding `files`; authkeys and *.key files get mode 600, as they must. */
  dir(files: Readonly<Record<string, string>>, modes?: Readonly<Record<string, number>>): Promise<string>;
  remove(): Promise<void>;
}

export async function scratch(): Promise<Scratch> {
  const root = await mkdtemp(join(tmpdir(), 'hb-config-'));
  return {
    async dir(files, modes = {}) {
      const dir = await mkdtemp(join(root, 'd-'));
      for (const [name, text] of Object.entries(files)) {
        await writeFile(join(dir, name), text);
        // Set after writing: a creation mode is filtered by the umask.
        await chmod(join(dir, name), modes[name] ?? (name === 'authkeys' || name.endsWith('.key') ? 0o600 : 0o644));
      }
      return dir;
    },
    remove: () => rm(root, { recursive: true, force: true }),
  };
}

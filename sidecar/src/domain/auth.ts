/** How datagrams are authenticated (docs/architecture.md, Wire format). */

/** `sha256` is the native form's; `sha1`, `md5` and `crc` are Heartbeat's authkeys methods. */
export const AUTH_METHODS = ['sha256', 'sha1', 'md5', 'crc'] as const;

export type AuthMethod = (typeof AUTH_METHODS)[number];

export interface AuthKey {
  readonly id: number;
  readonly method: AuthMethod;
  /** The secret's bytes exactly as written, never decoded as text (a binary secret is as good as any). */
  readonly secret: Buffer;
}

/**
 * The read-only form of a value parsed by a zod schema (z.output is mutable): what the loader
 * deep-freezes (the Config) or a reader must not change (the status snapshot). Byte buffers and
 * functions are left as they are, so a secret's Buffer keeps its methods.
 */
export type Frozen<T> = T extends Uint8Array | ((...args: never[]) => unknown)
  ? T
  : T extends readonly (infer E)[]
    ? readonly Frozen<E>[]
    : T extends object
      ? { readonly [K in keyof T]: Frozen<T[K]> }
      : T;

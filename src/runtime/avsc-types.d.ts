// avsc's type system alone (`lib/types.js`: what decoding needs, without avsc's files, streams
// and RPC services), which avsc ships without declarations of its own; its API is avsc's `Type`.
declare module 'avsc/lib/types.js' {
  import type { Type } from 'avsc';

  const types: { readonly Type: typeof Type };
  export default types;
}

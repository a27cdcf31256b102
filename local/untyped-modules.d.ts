// Declarations for the local tools' libraries that ship no types.
declare module 'dynalite' {
  import type { Server } from 'node:http';
  /** dynalite's options (see its readme); the local tools use these. */
  interface DynaliteOptions {
    /** How long a new table stays CREATING. @default 500 */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
  }
  /** An HTTP server speaking DynamoDB's wire protocol, in memory unless given a path; not yet listening. */
  function dynalite(options?: DynaliteOptions): Server;
  export default dynalite;
}

/** The slice of @orbitdb/core 4 (plain JavaScript, no types) that the orbitdb suite uses. */
declare module '@orbitdb/core' {
  interface KeyValueDatabase {
    readonly address: string;
    put(key: string, value: unknown): Promise<string>;
    get(key: string): Promise<unknown>;
    all(): Promise<{ key: string; value: unknown; hash: string }[]>;
    close(): Promise<void>;
  }
  interface OrbitDB {
    open(address: string, options?: { type?: string; AccessController?: unknown }): Promise<KeyValueDatabase>;
    stop(): Promise<void>;
  }
  export function createOrbitDB(options: { ipfs: unknown; directory?: string }): Promise<OrbitDB>;
  export function IPFSAccessController(options: { write: string[] }): unknown;
}

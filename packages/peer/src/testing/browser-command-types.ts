/** Types of the peer-process browser commands, safe to import in browser code (no runtime imports). */
import type { PeerProcessConfig } from './peer-process.ts';

declare module 'vitest/browser' {
  interface BrowserCommands {
    startPeerProcess: (config: PeerProcessConfig) => Promise<{ id: string; multiaddrs: string[] }>;
    sendPeerProcess: (id: string, command: object) => Promise<void>;
    peerProcessEvents: (id: string) => Promise<object[]>;
    stopPeerProcess: (id: string, how?: 'kill' | 'stop') => Promise<void>;
  }
}

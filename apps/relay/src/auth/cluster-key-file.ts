/**
 * The cluster key file of `tessera start` (Node only): JSON
 * `{ "publicKey": "<base64url>", "privateKey": "<base64url PKCS#8>" }`,
 * mode 0600. A laptop cluster's first start creates it; peers that share
 * the file share the cluster. A real deployment gives peers a file with the
 * public key only plus each peer's certificate (docs/security.md). The
 * private key is never printed or logged.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { ClusterSigner, ClusterVerifier } from '@tessera/auth';
import { TesseraError } from '@tessera/core';

/** A loaded cluster key: always the public half, the signer when the file holds the private half. */
export interface ClusterKeyFile {
  readonly path: string;
  readonly verifier: ClusterVerifier;
  readonly signer: ClusterSigner | undefined;
  /** True when this call created the file. */
  readonly created: boolean;
}

/** Thrown when the cluster key file exists but cannot be used. */
export class ClusterKeyFileError extends TesseraError {
  constructor(path: string, detail: string) {
    super(`cluster key file ${path}: ${detail}`, 'ERR_CLUSTER_KEY_FILE');
  }
}

async function parse(path: string, text: string): Promise<Omit<ClusterKeyFile, 'created'>> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClusterKeyFileError(path, 'not JSON');
  }
  const record = (json ?? {}) as { publicKey?: unknown; privateKey?: unknown };
  if (typeof record.privateKey === 'string') {
    const signer = await ClusterSigner.fromPrivateKey(record.privateKey);
    if (typeof record.publicKey === 'string' && record.publicKey !== signer.verifier.publicKeyText) {
      throw new ClusterKeyFileError(path, 'publicKey does not match privateKey');
    }
    return { path, verifier: signer.verifier, signer };
  }
  if (typeof record.publicKey !== 'string') throw new ClusterKeyFileError(path, 'needs publicKey');
  return { path, verifier: await ClusterVerifier.fromPublicKey(record.publicKey), signer: undefined };
}

/** Reads the key file. */
export async function readClusterKeyFile(path: string): Promise<ClusterKeyFile> {
  return { ...(await parse(path, await readFile(path, 'utf8'))), created: false };
}

/**
 * Reads the key file, or creates it with a fresh key when it does not exist.
 * Creation is atomic (write a temp file, hard-link it into place), so peers
 * of one laptop cluster starting together end up with the same key.
 */
export async function loadOrCreateClusterKeyFile(path: string): Promise<ClusterKeyFile> {
  try {
    return await readClusterKeyFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const signer = await ClusterSigner.generate();
  const text = `${JSON.stringify({
    publicKey: signer.verifier.publicKeyText,
    privateKey: Buffer.from(await signer.exportPrivateKey()).toString('base64url'),
  })}\n`;
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
  try {
    await link(temp, path);
    return { path, verifier: signer.verifier, signer, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readClusterKeyFile(path);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

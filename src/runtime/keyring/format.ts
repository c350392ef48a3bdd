import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { KeyringDecryptError, KeyringFormatError, KeyringKeyFileModeError, KeyringMasterKeyError } from '../../errors.js'

/** Format version 1: [version:1][key id:4, big-endian][nonce:12] ciphertext [tag:16]. */
export const FORMAT_VERSION = 1
export const HEADER_LENGTH = 17
export const TAG_LENGTH = 16
const EMPTY = Buffer.alloc(0)

// Nonces come from a pooled block of CSPRNG output: one randomBytes call per 4096 nonces instead of
// one per message (a small randomBytes call costs about as much as the 1 KiB encryption itself).
const NONCE_POOL = 12 * 4096
let nonces = Buffer.alloc(0)
let nonceAt = NONCE_POOL
function writeNonce(out: Buffer, at: number): Buffer {
  if (nonceAt >= NONCE_POOL) {
    nonces = randomBytes(NONCE_POOL)
    nonceAt = 0
  }
  nonces.copy(out, at, nonceAt, nonceAt + 12)
  nonceAt += 12
  return out.subarray(at, at + 12)
}

export function toBuffer(value: string | Uint8Array | undefined): Buffer {
  if (value === undefined) return EMPTY
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value.buffer, value.byteOffset, value.byteLength)
}

/** AES-256-GCM with the header bound as AAD, followed by the caller's AAD. */
export function seal(key: Buffer, keyId: number, plaintext: Buffer, aad: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_LENGTH + plaintext.length + TAG_LENGTH)
  out[0] = FORMAT_VERSION
  out.writeUInt32BE(keyId, 1)
  const nonce = writeNonce(out, 5)
  const cipher = createCipheriv('aes-256-gcm', key, nonce)
  cipher.setAAD(aad.length === 0 ? out.subarray(0, HEADER_LENGTH) : Buffer.concat([out.subarray(0, HEADER_LENGTH), aad]))
  const n = cipher.update(plaintext).copy(out, HEADER_LENGTH)
  cipher.final()
  cipher.getAuthTag().copy(out, HEADER_LENGTH + n)
  return out
}

export function readHeader(data: Buffer): { keyId: number } {
  if (data.length < HEADER_LENGTH + TAG_LENGTH) {
    throw new KeyringFormatError(`ciphertext too short (${data.length} bytes)`)
  }
  if (data[0] !== FORMAT_VERSION) throw new KeyringFormatError(`unknown ciphertext format version ${data[0]}`)
  return { keyId: data.readUInt32BE(1) }
}

export function open(key: Buffer, data: Buffer, aad: Buffer): Buffer {
  const header = data.subarray(0, HEADER_LENGTH)
  const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(5, HEADER_LENGTH))
  decipher.setAAD(aad.length === 0 ? header : Buffer.concat([header, aad]))
  decipher.setAuthTag(data.subarray(data.length - TAG_LENGTH))
  const body = decipher.update(data.subarray(HEADER_LENGTH, data.length - TAG_LENGTH))
  try {
    decipher.final()
  } catch {
    // Deliberately no cause: OpenSSL's message adds nothing and we never echo inputs.
    throw new KeyringDecryptError()
  }
  return body
}

/** Parse a 32-byte key given as base64, base64url or hex; the error never repeats the input. */
export function parseKey(text: string, source: string): Buffer {
  const t = text.trim()
  let key: Buffer | undefined
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, 'hex')
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64')
  if (key?.length !== 32) {
    throw new KeyringMasterKeyError(`${source} must hold 32 bytes as base64 or hex (${t.length} characters given)`)
  }
  return key
}

export interface MasterKeySource {
  masterKey?: Uint8Array | string
  masterKeyFile?: string
}

/** The master key: explicit option, then ECOM_MASTER_KEY, then a 0600 key file (option or ECOM_MASTER_KEY_FILE). */
export function loadMasterKey(o: MasterKeySource, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (o.masterKey !== undefined) {
    if (typeof o.masterKey === 'string') return parseKey(o.masterKey, 'options.masterKey')
    if (o.masterKey.byteLength !== 32) throw new KeyringMasterKeyError('options.masterKey must be 32 bytes')
    return Buffer.from(o.masterKey)
  }
  if (env.ECOM_MASTER_KEY) return parseKey(env.ECOM_MASTER_KEY, 'ECOM_MASTER_KEY')
  const file = o.masterKeyFile ?? env.ECOM_MASTER_KEY_FILE
  if (file === undefined) {
    throw new KeyringMasterKeyError('no master key: set ECOM_MASTER_KEY, or masterKeyFile / ECOM_MASTER_KEY_FILE')
  }
  let mode: number
  try {
    mode = statSync(file).mode
  } catch (err) {
    throw new KeyringMasterKeyError(`cannot read the master key file ${file}: ${(err as NodeJS.ErrnoException).code}`)
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyringKeyFileModeError(
      `the master key file ${file} has mode 0${(mode & 0o777).toString(8)}; it must be 0600 (chmod 600 ${file})`
    )
  }
  return parseKey(readFileSync(file, 'utf8'), `the master key file ${file}`)
}

export function freshKey(): Buffer {
  return randomBytes(32)
}

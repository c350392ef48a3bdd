import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { RedisBacked, type RedisStoreOptions } from './client.js'

/** What travels on the channel: which key ring rotated to which key id. Never key material. */
export interface KeyringRotationNotice {
  /** The key ring's name, e.g. "webhooks" or "sessions". */
  ring: string
  /** The id of the key now active for signing/encrypting. */
  activeKeyId: string
  /** When the rotation happened (ms since epoch). */
  at: number
  /** The process that rotated (ignored by its own subscriber). */
  origin: string
}

export type RotationListener = (notice: KeyringRotationNotice) => void

/**
 * Keyring rotation notices over Redis pub/sub: the instance that rotates publishes, every other
 * instance reloads its key ring when told. Pub/sub is fire-and-forget, so an instance that was
 * disconnected reloads on reconnect too (it gets a notice with ring "*").
 */
export class RedisKeyringNotifier extends RedisBacked {
  readonly origin = randomUUID()
  readonly channel: string
  #sub: Redis | undefined
  readonly #listeners = new Set<RotationListener>()

  constructor(options: RedisStoreOptions) {
    super('keyring', options)
    this.channel = this.key('keyring', 'rotated')
  }

  /** Tell every other instance that `ring` now signs with `activeKeyId`. Resolves to the receiver count. */
  async publish(ring: string, activeKeyId: string): Promise<number> {
    const notice: KeyringRotationNotice = { ring, activeKeyId, at: Date.now(), origin: this.origin }
    try {
      await this.connected()
      return await this.client.publish(this.channel, JSON.stringify(notice))
    } catch (err) {
      throw this.markDown(err, 'publish')
    }
  }

  /** Listen for notices from other instances; resolves once subscribed. Returns an unsubscribe function. */
  async subscribe(listener: RotationListener): Promise<() => void> {
    this.#listeners.add(listener)
    if (!this.#sub) {
      // A subscribed connection cannot run other commands: use a second one. It queues while offline
      // so the subscription is restored after an outage.
      const sub = this.client.duplicate({ enableOfflineQueue: true, autoResubscribe: true })
      this.#sub = sub
      sub.on('error', (err: Error) => this.markDown(err, 'connection'))
      let first = true
      sub.on('ready', () => {
        if (first) {
          first = false
          return
        }
        this.markUp()
        this.#emit({ ring: '*', activeKeyId: '', at: Date.now(), origin: 'reconnect' })
      })
      sub.on('message', (channel: string, text: string) => {
        if (channel !== this.channel) return
        let notice: KeyringRotationNotice
        try {
          notice = JSON.parse(text) as KeyringRotationNotice
        } catch {
          this.log.warn({ channel }, 'ignored a malformed keyring notice')
          return
        }
        if (notice.origin === this.origin || typeof notice.ring !== 'string') return
        this.#emit(notice)
      })
      await sub.subscribe(this.channel)
    }
    return () => {
      this.#listeners.delete(listener)
    }
  }

  /**
   * Reload `keyring` (anything with `reload()`, e.g. the runtime `Keyring`) whenever another instance
   * announces a rotation of `ring`, or after a reconnect. Resolves once subscribed.
   */
  attach(keyring: { reload(): Promise<void> }, ring: string): Promise<() => void> {
    return this.subscribe((n) => {
      if (n.ring !== ring && n.ring !== '*') return
      keyring.reload().catch((err: unknown) => this.log.error({ ring, err: (err as Error).message }, 'keyring reload after a rotation notice failed'))
    })
  }

  #emit(notice: KeyringRotationNotice): void {
    for (const l of this.#listeners) {
      try {
        l(notice)
      } catch (err) {
        this.log.error({ err }, 'a keyring rotation listener threw')
      }
    }
  }

  override async close(): Promise<void> {
    if (this.#sub) {
      const sub = this.#sub
      this.#sub = undefined
      try {
        await sub.quit()
      } catch {
        sub.disconnect()
      }
    }
    await super.close()
  }
}

// WorkerPool task: embeds a batch of texts off the event loop and hands back one flat Float32Array
// (n × EMBEDDING_DIMENSIONS), whose buffer the caller's `transferList`-free clone copies once.
import { EMBEDDING_DIMENSIONS, embed } from './embed.js'

export default function embedBatch(texts: string[], { signal }: { signal?: AbortSignal } = {}): Float32Array {
  const out = new Float32Array(texts.length * EMBEDDING_DIMENSIONS)
  for (let i = 0; i < texts.length; i++) {
    if (i % 64 === 0) signal?.throwIfAborted()
    out.set(embed(texts[i]!), i * EMBEDDING_DIMENSIONS)
  }
  return out
}

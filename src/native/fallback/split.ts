import { InvalidOptionError } from '../../errors.js'

// TypeScript twin of the addon's scanLines: same contract (see native/src/split.cc).
const latin1 = new TextDecoder('latin1')

export function scanLines(buf: Uint8Array, out: Uint32Array, maxLineLength: number, skipEmpty: boolean): string | undefined {
  const n = buf.length
  let lines = 0
  let pos = 0
  let status = 0
  while (pos < n) {
    const nl = buf.indexOf(10, pos)
    if (nl < 0) break
    const end = nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl
    if (end - pos > maxLineLength) {
      status = 1
      break
    }
    if (!(skipEmpty && end === pos)) {
      if (5 + 2 * lines >= out.length) throw new InvalidOptionError('scanLines: out is too small for the lines in buf')
      out[4 + 2 * lines] = pos
      out[5 + 2 * lines] = end
      lines++
    }
    pos = nl + 1
  }
  const consumed = status ? 0 : pos
  if (!status && n - consumed > maxLineLength + (n > consumed && buf[n - 1] === 13 ? 1 : 0)) status = 1
  out[0] = status ? 0 : lines
  out[1] = consumed
  out[2] = status
  out[3] = 0
  if (status || consumed === 0) return undefined
  for (let i = 0; i < consumed; i++) if (buf[i]! >= 0x80) return undefined
  out[3] = 1
  return latin1.decode(buf.subarray(0, consumed))
}

// The keyword tokenizer: case and accent folding, split on anything that is not a letter or a digit.

const NON_WORD = /[^\p{L}\p{N}]+/u
const MARKS = /\p{M}+/gu
const ASCII = /^[\x00-\x7f]*$/

/** Lower-cases, strips accents (NFD + drop combining marks: "Crème Brûlée" -> "creme brulee"), splits. */
export function foldText(text: string): string {
  const lower = text.toLowerCase()
  return ASCII.test(lower) ? lower : lower.normalize('NFD').replace(MARKS, '').normalize('NFC')
}

/** The default tokenizer of KeywordIndex. */
export function tokenize(text: string): string[] {
  const parts = foldText(text).split(NON_WORD)
  let w = 0
  for (let i = 0; i < parts.length; i++) if (parts[i] !== '') parts[w++] = parts[i]!
  parts.length = w
  return parts
}

/**
 * Braintree's XML answer format, the subset the emulator needs: dasherised element names, `type`
 * attributes for integers, booleans, arrays and collections, `nil="true"` for nulls.
 */

export type XmlValue = string | number | boolean | null | undefined | XmlValue[] | { [key: string]: XmlValue } | XmlNode

/** An element whose `type` attribute must be written explicitly (e.g. `collection`). */
export class XmlNode {
  constructor(
    readonly attrs: Record<string, string>,
    readonly children: Record<string, XmlValue>,
  ) {}
}

const escape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const dash = (k: string) => k.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

export function toXml(name: string, value: XmlValue): string {
  const tag = dash(name)
  if (value === null || value === undefined) return `<${tag} nil="true"/>`
  if (value instanceof XmlNode) {
    const attrs = Object.entries(value.attrs).map(([k, v]) => ` ${k}="${escape(v)}"`).join('')
    return `<${tag}${attrs}>${Object.entries(value.children).map(([k, v]) => toXml(k, v)).join('')}</${tag}>`
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return `<${tag} type="array"/>`
    // Braintree names array items after their type (<transaction>) or `item` for scalars.
    return `<${tag} type="array">${value.map((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof XmlNode) && '__tag' in v ? toXml(String(v.__tag), stripTag(v)) : toXml('item', v))).join('')}</${tag}>`
  }
  if (typeof value === 'number') return `<${tag} type="integer">${value}</${tag}>`
  if (typeof value === 'boolean') return `<${tag} type="boolean">${value}</${tag}>`
  if (typeof value === 'object') return `<${tag}>${Object.entries(value).map(([k, v]) => toXml(k, v)).join('')}</${tag}>`
  return `<${tag}>${escape(value)}</${tag}>`
}

function stripTag(v: { [key: string]: XmlValue }): { [key: string]: XmlValue } {
  const { __tag: _ignored, ...rest } = v
  return rest
}

export function xmlDocument(name: string, value: XmlValue): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${toXml(name, value)}\n`
}

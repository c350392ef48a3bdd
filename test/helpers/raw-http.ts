import { connect } from 'node:net'

/**
 * The response head of one raw `GET` (request line, then each header line), with the header names
 * exactly as they came over the wire; node's and fetch's clients would lower-case them.
 */
export function rawHead(port: number, path = '/'): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(`GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`))
    let text = ''
    socket.setEncoding('latin1')
    socket.on('data', (d: string) => (text += d))
    socket.on('end', () => resolve(text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n')))
    socket.on('error', reject)
  })
}

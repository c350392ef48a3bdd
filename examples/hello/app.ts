// The example `npm start` boots: a plain Node request handler, served by `ecom start` on every worker.
import type { IncomingMessage, ServerResponse } from 'node:http'

const worker = process.env.ECOM_WORKER_ID ?? '0'

export default function hello(req: IncomingMessage, res: ServerResponse): void {
  if (req.url === '/boom') throw new Error('boom') // the edge answers 500; the worker keeps serving
  res.setHeader('Content-Type', 'application/json')
  res.end(JSON.stringify({ hello: 'world', worker, pid: process.pid }))
}

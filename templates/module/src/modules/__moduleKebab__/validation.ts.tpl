import { z } from 'zod'

// Input checks at the HTTP boundary; the ORM checks types again before any SQL runs.
export const create__modulePascal__Input = z.object({
  name: z.string().trim().min(1).max(120),
  description: z.string().max(10_000).nullable().optional(),
  quantity: z.number().int().min(0).optional(),
  active: z.boolean().optional(),
}).strict()

export const update__modulePascal__Input = create__modulePascal__Input.partial().strict()

export const list__modulePascal__Query = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  offset: z.coerce.number().int().min(0).default(0),
  q: z.string().max(120).optional(),
})

export const __moduleCamel__Id = z.uuid()

export type Create__modulePascal__Input = z.infer<typeof create__modulePascal__Input>
export type Update__modulePascal__Input = z.infer<typeof update__modulePascal__Input>
export type List__modulePascal__Query = z.infer<typeof list__modulePascal__Query>

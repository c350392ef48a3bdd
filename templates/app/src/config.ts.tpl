import { z } from 'zod'

// Settings come from the environment (use `ecom start --env-file .env`); validated once, at start.
const schema = z.object({
  DATABASE_FILE: z.string().min(1).default('./data/__appKebab__.db'),
  APP_NAME: z.string().min(1).default('__appKebab__'),
})

export type AppConfig = z.infer<typeof schema>

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')
    throw new Error(`invalid configuration: ${problems}`)
  }
  return parsed.data
}

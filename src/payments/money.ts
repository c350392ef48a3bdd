import { InvalidMoneyError } from '../errors.js'
import { CURRENCY_EXPONENTS, type Money } from './model.js'

/** A validated Money: integer minor units >= 0 in a known ISO 4217 currency (upper-cased). */
export function money(amount: number, currency: string): Money {
  const cur = String(currency).toUpperCase()
  if (CURRENCY_EXPONENTS[cur] === undefined) throw new InvalidMoneyError(`money.currency must be a known ISO 4217 code, got "${currency}"`)
  if (!Number.isSafeInteger(amount) || amount < 0) {
    throw new InvalidMoneyError(`money.amount must be a non-negative integer of minor units, got ${String(amount)}`)
  }
  return Object.freeze({ amount, currency: cur })
}

export function assertMoney(m: Money, path = 'amount'): Money {
  if (typeof m !== 'object' || m === null) throw new InvalidMoneyError(`${path} must be { amount, currency }`)
  try {
    return money(m.amount, m.currency)
  } catch (err) {
    throw new InvalidMoneyError(`${path}: ${(err as Error).message}`)
  }
}

/** Minor units from a decimal string or number in major units ("10.50" USD -> 1050, "1.234" KWD -> 1234). */
export function fromMajor(value: string | number, currency: string): Money {
  const cur = currency.toUpperCase()
  const exp = CURRENCY_EXPONENTS[cur]
  if (exp === undefined) throw new InvalidMoneyError(`money.currency must be a known ISO 4217 code, got "${currency}"`)
  const text = typeof value === 'number' ? value.toFixed(exp) : value.trim()
  const m = /^(\d+)(?:\.(\d+))?$/.exec(text)
  if (!m || (m[2] ?? '').length > exp) throw new InvalidMoneyError(`"${text}" is not an amount of ${cur} (${exp} decimals at most)`)
  const minor = Number(m[1]) * 10 ** exp + Number((m[2] ?? '').padEnd(exp, '0') || '0')
  return money(minor, cur)
}

/** The decimal string in major units ("10.50", "1000", "1.234"), as providers that take major units want. */
export function toMajor(m: Money): string {
  const exp = CURRENCY_EXPONENTS[m.currency]
  if (exp === undefined) throw new InvalidMoneyError(`money.currency must be a known ISO 4217 code, got "${m.currency}"`)
  if (exp === 0) return String(m.amount)
  const s = String(m.amount).padStart(exp + 1, '0')
  return `${s.slice(0, -exp)}.${s.slice(-exp)}`
}

export function sameCurrency(a: Money, b: Money): boolean {
  return a.currency === b.currency
}

import { describe, expect, it } from 'vitest'
import { InvalidMoneyError } from '../../src/errors.js'
import { fromMajor, money, toMajor } from '../../src/payments/money.js'

describe('money', () => {
  it('uses each currency exponent', () => {
    expect(fromMajor('10.50', 'USD')).toEqual({ amount: 1050, currency: 'USD' })
    expect(fromMajor('1000', 'JPY')).toEqual({ amount: 1000, currency: 'JPY' })
    expect(fromMajor('1.234', 'KWD')).toEqual({ amount: 1234, currency: 'KWD' })
    expect(toMajor({ amount: 1050, currency: 'USD' })).toBe('10.50')
    expect(toMajor({ amount: 5, currency: 'USD' })).toBe('0.05')
    expect(toMajor({ amount: 1000, currency: 'JPY' })).toBe('1000')
    expect(toMajor({ amount: 1234, currency: 'KWD' })).toBe('1.234')
  })

  it('rejects fractions of minor units, unknown currencies and negative amounts', () => {
    expect(() => fromMajor('10.5', 'JPY')).toThrow(InvalidMoneyError)
    expect(() => fromMajor('1.2345', 'KWD')).toThrow(InvalidMoneyError)
    expect(() => money(10.5, 'USD')).toThrow(InvalidMoneyError)
    expect(() => money(-1, 'USD')).toThrow(InvalidMoneyError)
    expect(() => money(1, 'XXX')).toThrow(/ISO 4217/)
    expect(money(1, 'usd').currency).toBe('USD')
  })
})

package payment

// currencies is the allowlist of ISO 4217 codes we accept, with the number
// of decimal places of each minor unit (so 1250 USD is 12.50 and 1250 JPY is
// 1250). A code is added here only when the business supports settling it;
// an unknown code is refused rather than stored and discovered later.
var currencies = map[string]int{
	"AED": 2, "AUD": 2, "BHD": 3, "BRL": 2, "CAD": 2, "CHF": 2, "CNY": 2,
	"CZK": 2, "DKK": 2, "EUR": 2, "GBP": 2, "HKD": 2, "HUF": 2, "ILS": 2,
	"INR": 2, "ISK": 0, "JOD": 3, "JPY": 0, "KRW": 0, "KWD": 3, "MXN": 2,
	"NOK": 2, "NZD": 2, "OMR": 3, "PLN": 2, "SAR": 2, "SEK": 2, "SGD": 2,
	"THB": 2, "TRY": 2, "USD": 2, "ZAR": 2,
}

// MinorUnitDigits reports how many decimal places the currency's minor unit
// has, and whether the currency is accepted at all.
func MinorUnitDigits(code string) (int, bool) {
	d, ok := currencies[code]
	return d, ok
}

// AlphaVantage

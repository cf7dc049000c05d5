// MarketData

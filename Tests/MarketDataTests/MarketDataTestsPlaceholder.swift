import Testing

@Test func MarketDataTestsBuilds() {}

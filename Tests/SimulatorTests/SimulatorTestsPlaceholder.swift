import Testing

@Test func SimulatorTestsBuilds() {}

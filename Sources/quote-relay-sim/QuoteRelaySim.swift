import ArgumentParser

/// Simulators for development and tests without an IB account or an Alpha Vantage key.
@main
struct QuoteRelaySim: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote-relay-sim",
        abstract: "Protocol-accurate simulators of IB Gateway and the Alpha Vantage REST API.",
        subcommands: [IBGatewayCommand.self, AlphaVantageCommand.self]
    )
}

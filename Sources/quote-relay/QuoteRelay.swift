import ArgumentParser

/// The worker and its operator commands (CONTRACT §1).
@main
struct QuoteRelay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote-relay",
        abstract: "Relays IB Gateway market data into Redis, failing over to Alpha Vantage.",
        subcommands: [RunCommand.self, CheckConfigCommand.self, StatusCommand.self, SubscribeCommand.self, UnsubscribeCommand.self, SubscriptionsCommand.self]
    )
}

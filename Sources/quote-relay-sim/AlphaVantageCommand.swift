import ArgumentParser

struct AlphaVantageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "alpha-vantage", abstract: "Alpha Vantage REST API simulator.")
    func run() async throws { throw ValidationError("not built yet") }
}

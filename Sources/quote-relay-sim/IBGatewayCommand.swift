import ArgumentParser

struct IBGatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ib-gateway", abstract: "IB Gateway simulator (TWS API socket protocol).")
    func run() async throws { throw ValidationError("not built yet") }
}

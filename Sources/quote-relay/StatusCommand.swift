import ArgumentParser

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status")
    func run() async throws { throw ValidationError("not built yet") }
}

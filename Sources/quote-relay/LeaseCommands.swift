import ArgumentParser
import Foundation
import RedisPublisher
import Relay

/// `quote-relay subscribe`: writes (or refreshes) a lease, as an application would.
struct SubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscribe",
        abstract: "Lease an instrument through Redis (README \"Subscriptions at runtime\").",
        discussion: """
            Writes <requester>|<instrument> into P:leases with an expiry TTL seconds from now on \
            Redis' clock. Run it again before the TTL ends to keep the data; let it lapse (or run \
            unsubscribe) when done. Instruments: AAPL, STK:SPY, IND:SPX@CBOE, FUT:ES.202612@CME, \
            CASH:EUR.USD. The worker writes the request's status to P:request:<requester>:<instrument>.

            Exit status: 0 written, 1 Redis unreachable, 2 invalid arguments or configuration.
            """
    )

    @OptionGroup var target: RedisTarget

    @Option(name: .long, help: "Who asks (1-64 of A-Z a-z 0-9 _ . -).")
    var requester = "operator"

    @Option(name: .long, help: "Seconds until the lease expires.")
    var ttl: Int = 300

    @Option(name: .long, help: "Priority (higher first; clamped by the worker to leases.max_priority).")
    var priority: Int?

    @Argument(help: "The instrument spec.")
    var instrument: String

    func run() async throws {
        let (url, prefix) = try target.resolve()
        let requester = self.requester, instrument = self.instrument, ttlMs = Int64(ttl).multipliedReportingOverflow(by: 1000).overflow ? Int64.max : Int64(ttl) * 1000, priority = self.priority
        do {
            let expires = try await offThread { () throws(LeaseClient.ClientError) in
                try LeaseClient.subscribe(url: url, prefix: prefix, requester: requester, spec: instrument, ttlMs: ttlMs, priority: priority)
            }
            print("leased \(requester)|\(instrument) until \(expires) ms (Redis clock); status in \(prefix):request:\(requester):\(instrument)")
        } catch {
            printError("cannot subscribe: \(error)")
            if case .redis = error { throw ExitCode(1) }
            throw ExitCode(2)
        }
    }
}

/// `quote-relay unsubscribe`: removes a lease at once.
struct UnsubscribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unsubscribe",
        abstract: "Remove a lease (the worker releases the line after its grace period).",
        discussion: "Exit status: 0 removed, 1 no such lease or Redis unreachable, 2 invalid arguments or configuration."
    )

    @OptionGroup var target: RedisTarget

    @Option(name: .long, help: "Who asked.")
    var requester = "operator"

    @Argument(help: "The instrument spec, exactly as leased.")
    var instrument: String

    func run() async throws {
        let (url, prefix) = try target.resolve()
        let requester = self.requester, instrument = self.instrument
        do {
            let existed = try await offThread { () throws(LeaseClient.ClientError) in
                try LeaseClient.unsubscribe(url: url, prefix: prefix, requester: requester, spec: instrument)
            }
            guard existed else {
                printError("no lease \(requester)|\(instrument)")
                throw ExitCode(1)
            }
            print("removed \(requester)|\(instrument)")
        } catch let error as LeaseClient.ClientError {
            printError("cannot unsubscribe: \(error)")
            if case .redis = error { throw ExitCode(1) }
            throw ExitCode(2)
        }
    }
}

/// `quote-relay subscriptions`: every lease with its status.
struct SubscriptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscriptions",
        abstract: "List the leases and each request's status.",
        discussion: "Exit status: 0 listed (even when empty), 1 Redis unreachable, 2 invalid configuration."
    )

    @OptionGroup var target: RedisTarget

    func run() async throws {
        let (url, prefix) = try target.resolve()
        do {
            let rows = try await offThread { () throws(LeaseClient.ClientError) in try LeaseClient.list(url: url, prefix: prefix) }
            print(LeaseClient.table(rows))
        } catch {
            printError("cannot read leases: \(error)")
            throw ExitCode(1)
        }
    }
}

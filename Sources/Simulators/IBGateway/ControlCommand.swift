/// A fault or query for the simulated gateway, from the control port (one text line) or a
/// CLI flag (the same words). Parsing is separate from execution so that both entry points
/// and the tests share one grammar.
public enum ControlCommand: Sendable, Hashable {
    /// Market updates per second across all subscriptions.
    case rate(Double)
    /// No ticks; heartbeats answered; snapshot requests never answered.
    case stall
    /// No ticks; snapshots and heartbeats answered.
    case quiet
    /// Answer nothing at all (handshakes included); sockets stay open.
    case hang
    /// Ends stall, quiet, hang, competing-session and no-permission.
    case resume
    /// Close every client connection.
    case drop
    /// Close new connections right after accept for this many seconds.
    case refuse(seconds: Double)
    /// 2103 for the farm (default usfarm); ticks stop until farm-up.
    case farmDown(String)
    /// 2104 for the farm that is down (or the given one); ticks resume.
    case farmUp(String?)
    /// 1100; ticks stop.
    case connectivityLost
    /// 1102 (data maintained) or 1101 (data lost: every subscription is dropped).
    case connectivityRestored(dataLost: Bool)
    /// Every subscription ends with 10197 and new market data requests get 10197; `off` ends it.
    case competingSession(Bool)
    /// Delay the server hello by this many milliseconds (0 = off).
    case slowHandshake(milliseconds: Int)
    /// This many market updates as fast as possible, ignoring the rate.
    case flood(Int)
    /// Market data requests for the symbol get 354.
    case noPermission(String)
    /// `error SYM CODE keep|drop [TEXT]`: ERR_MSG `code` on the symbol's market data requests,
    /// open ones at once and new ones as they come; `keep` leaves the line streaming (a warning
    /// such as 10090), `drop` ends it. `resume` clears every rule.
    case errorOn(symbol: String, code: Int32, keepLine: Bool, message: String?)
    /// A trading halt: tick 49 = 1, bid/ask -1 with size 0, no trades (IB's tick types).
    case halt(String)
    /// The halt ends: tick 49 = 0 and quotes again.
    case unhalt(String)
    /// The last value sent to (clientId, reqId) per tick type, for cross-checks from
    /// outside the process (the conformance scripts).
    case sent(clientId: Int32, reqId: Int32)
    /// `last CLIENT_ID SYMBOL`: the last value sent to the client per tick type for the
    /// symbol's contract over all its requests (streaming and snapshot), for checks that what
    /// a client published equals the last value its source sent (the soak's `value` invariant).
    /// Options are not included (their symbol is the underlying's).
    case last(clientId: Int32, symbol: String)
    /// Frames a real gateway should never send, to prove a client skips them and goes on: a
    /// message id no client knows, and for every subscription a TICK_PRICE whose price is not
    /// a number and a truncated TICK_SIZE.
    case malformed
    case counters
    case help

    /// Parses one command line; the error text is what the control port answers after `ERR `.
    public static func parse(_ line: String) -> Result<ControlCommand, ControlCommandError> {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard let head = words.first?.lowercased() else { return .failure(.init("empty command")) }
        let args = Array(words.dropFirst())
        func number(_ name: String) -> Result<Double, ControlCommandError> {
            guard args.count == 1, let v = Double(args[0]), v.isFinite, v >= 0 else {
                return .failure(.init("\(head) needs one non-negative number (\(name))"))
            }
            return .success(v)
        }
        func none(_ c: ControlCommand) -> Result<ControlCommand, ControlCommandError> {
            args.isEmpty ? .success(c) : .failure(.init("\(head) takes no arguments"))
        }
        switch head {
        case "rate": return number("ticks per second").map { .rate($0) }
        case "stall": return none(.stall)
        case "quiet": return none(.quiet)
        case "hang": return none(.hang)
        case "resume": return none(.resume)
        case "drop": return none(.drop)
        case "refuse": return number("seconds").map { .refuse(seconds: $0) }
        case "farm-down":
            guard args.count <= 1 else { return .failure(.init("farm-down takes at most a farm name")) }
            return .success(.farmDown(args.first ?? "usfarm"))
        case "farm-up":
            guard args.count <= 1 else { return .failure(.init("farm-up takes at most a farm name")) }
            return .success(.farmUp(args.first))
        case "connectivity-lost": return none(.connectivityLost)
        case "connectivity-restored":
            switch args.first?.lowercased() {
            case "maintained" where args.count == 1: return .success(.connectivityRestored(dataLost: false))
            case "lost" where args.count == 1: return .success(.connectivityRestored(dataLost: true))
            default: return .failure(.init("connectivity-restored needs 'maintained' or 'lost'"))
            }
        case "competing-session":
            switch args.first?.lowercased() {
            case nil, "on": return args.count <= 1 ? .success(.competingSession(true)) : .failure(.init("usage: competing-session [on|off]"))
            case "off" where args.count == 1: return .success(.competingSession(false))
            default: return .failure(.init("usage: competing-session [on|off]"))
            }
        case "slow-handshake": return number("milliseconds").map { .slowHandshake(milliseconds: Int($0)) }
        case "flood":
            guard args.count == 1, let n = Int(args[0]), n > 0, n <= 10_000_000 else {
                return .failure(.init("flood needs a tick count between 1 and 10000000"))
            }
            return .success(.flood(n))
        case "no-permission":
            guard args.count == 1 else { return .failure(.init("no-permission needs one symbol")) }
            return .success(.noPermission(args[0].uppercased()))
        case "error":
            guard args.count >= 3, let code = Int32(args[1]), ["keep", "drop"].contains(args[2].lowercased()) else {
                return .failure(.init("usage: error SYMBOL CODE keep|drop [TEXT]"))
            }
            let text = args.count > 3 ? args.dropFirst(3).joined(separator: " ") : nil
            return .success(.errorOn(symbol: args[0].uppercased(), code: code, keepLine: args[2].lowercased() == "keep", message: text))
        case "halt", "unhalt":
            guard args.count == 1 else { return .failure(.init("\(head) needs one symbol")) }
            return .success(head == "halt" ? .halt(args[0].uppercased()) : .unhalt(args[0].uppercased()))
        case "malformed": return none(.malformed)
        case "sent":
            guard args.count == 2, let clientId = Int32(args[0]), let reqId = Int32(args[1]) else {
                return .failure(.init("usage: sent CLIENT_ID REQ_ID"))
            }
            return .success(.sent(clientId: clientId, reqId: reqId))
        case "last":
            guard args.count == 2, let clientId = Int32(args[0]) else {
                return .failure(.init("usage: last CLIENT_ID SYMBOL"))
            }
            return .success(.last(clientId: clientId, symbol: args[1].uppercased()))
        case "counters": return none(.counters)
        case "help": return none(.help)
        default: return .failure(.init("unknown command '\(head)' (try help)"))
        }
    }

    public static let helpText =
        "commands: rate N | stall | quiet | hang | resume | drop | refuse SECONDS | farm-down [FARM] | farm-up [FARM] | connectivity-lost | connectivity-restored maintained|lost | competing-session [on|off] | slow-handshake MS | flood N | no-permission SYMBOL | error SYMBOL CODE keep|drop [TEXT] | halt SYMBOL | unhalt SYMBOL | malformed | sent CLIENT_ID REQ_ID | last CLIENT_ID SYMBOL | counters | help"
}

public struct ControlCommandError: Error, Sendable, Hashable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Why a TCP connection to the gateway failed, said so that the person reading the log knows
/// what to check. NIO's own description of a refused connection is three lines of
/// `NIOConnectionError(... SingleConnectionFailure(target: [IPv4]...) (errno: 111))`.
///
/// The hints are IB's: the API socket is off until "Enable ActiveX and Socket Clients" is ticked
/// (IB Gateway / TWS: Configure > Settings > API > Settings); its default ports are 4001 (IB
/// Gateway, live), 4002 (IB Gateway, paper), 7496 / 7497 (TWS live / paper); and a connection
/// from a host not in "Trusted IPs" is closed or must be confirmed at the gateway.
public enum ConnectFailure: Sendable, Equatable {
    /// ECONNREFUSED: nothing listens on that port.
    case refused
    /// No answer to the TCP handshake within the connect timeout (ETIMEDOUT, NIO's connect timeout).
    case timedOut
    /// No route to the host or network (EHOSTUNREACH, ENETUNREACH).
    case unreachable
    /// The host name did not resolve.
    case hostNotFound
    /// Anything else, with the underlying description.
    case other(String)

    /// Classifies an error from `ClientBootstrap.connect`.
    public static func classify(_ error: any Error) -> ConnectFailure {
        if let io = error as? IOError { return classify(errno: io.errnoCode, description: "\(io)") }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return .timedOut }
        if let connection = error as? NIOConnectionError {
            // Every address tried failed; the first one with a meaning decides.
            let causes = connection.connectionErrors.map { classify($0.error) }
            if let known = causes.first(where: { if case .other = $0 { false } else { true } }) { return known }
            if causes.isEmpty, connection.dnsAError != nil || connection.dnsAAAAError != nil { return .hostNotFound }
            if let first = causes.first { return first }
        }
        if error is SocketAddressError { return .hostNotFound }
        return .other(Self.oneLine("\(error)"))
    }

    static func classify(errno code: Int32, description: String) -> ConnectFailure {
        switch code {
        case ECONNREFUSED: .refused
        case ETIMEDOUT: .timedOut
        case EHOSTUNREACH, ENETUNREACH: .unreachable
        default: .other(oneLine(description))
        }
    }

    /// One line, e.g. `IB Gateway at 127.0.0.1:4002 refused the connection: is IB Gateway (or
    /// TWS) running and logged in, is its API enabled, is 4002 its API port (4001 live / 4002
    /// paper), is this host a trusted IP?`
    public func message(host: String, port: Int) -> String {
        let target = "\(host):\(port)"
        let checks = "is IB Gateway (or TWS) running and logged in, is its API enabled (Enable ActiveX and Socket Clients), "
            + "is \(port) its API port (IB Gateway 4001 live / 4002 paper, TWS 7496 / 7497), is this host a trusted IP?"
        switch self {
        case .refused: return "IB Gateway at \(target) refused the connection: \(checks)"
        case .timedOut: return "IB Gateway at \(target) did not answer the TCP connect: is the host up, does a firewall drop the port? \(checks)"
        case .unreachable: return "IB Gateway at \(target) is unreachable (no route to the host): check ib.host and the network"
        case .hostNotFound: return "IB Gateway host \(host) not found: check ib.host"
        case .other(let text): return "cannot connect to IB Gateway at \(target): \(text)"
        }
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}

/// Talking to Redis Sentinel: finding the primary and reading `+switch-master`.
///
/// Facts from Redis' Sentinel documentation (https://redis.io/docs/latest/operate/oss_and_stack/management/sentinel/):
/// `SENTINEL get-master-addr-by-name <name>` answers `[ip, port]`, or a null reply for a
/// name it does not monitor; after a failover, `+switch-master` is published on the
/// sentinel's own pub/sub as `<name> <old-ip> <old-port> <new-ip> <new-port>`; a client must
/// check with `ROLE` that the node it reached is still the primary, since a sentinel's view
/// can lag.
public enum Sentinel {
    /// The primary's address from a `get-master-addr-by-name` reply; nil for the null reply
    /// (the sentinel does not know the name).
    static func primaryAddress(from reply: RedisReply) throws(RedisError) -> (host: String, port: Int)? {
        if reply.isNull { return nil }
        guard let items = reply.array, items.count == 2, let host = items[0].string, let portText = items[1].string,
              let port = Int(portText), (1...65535).contains(port), !host.isEmpty
        else {
            throw RedisError(.unexpectedReply, "SENTINEL get-master-addr-by-name answered \(reply)")
        }
        return (host, port)
    }

    /// The new primary announced by a `+switch-master` message payload, when it is about
    /// `masterName`.
    static func switchedPrimary(payload: String, masterName: String) -> (host: String, port: Int)? {
        let parts = payload.split(separator: " ")
        guard parts.count == 5, parts[0] == masterName, let port = Int(parts[4]), (1...65535).contains(port) else { return nil }
        return (String(parts[3]), port)
    }

    /// True when a `ROLE` reply says the node is a primary (`master`).
    static func isPrimary(roleReply: RedisReply) -> Bool {
        roleReply.array?.first?.string == "master"
    }

    /// The URL of one sentinel: its address, the Sentinel credentials, and the data URL's
    /// TLS settings (a deployment that encrypts Redis encrypts its sentinels too).
    static func url(of address: SentinelConfiguration.Address, _ configuration: SentinelConfiguration, dataURL: RedisURL) -> RedisURL {
        RedisURL(host: address.host, port: address.port, user: configuration.username, password: configuration.password,
                 database: 0, tls: dataURL.tls)
    }

    /// Asks the sentinels in order for the primary and connects to it, checking with `ROLE`
    /// that it is a primary. The returned connection has the data URL's credentials and
    /// database.
    ///
    /// - Throws: `.connectFailed` naming every sentinel's answer when none led to a primary.
    public static func connectToPrimary(
        _ configuration: SentinelConfiguration, dataURL: RedisURL, connectTimeout: Duration, ioTimeout: Duration
    ) throws(RedisError) -> RedisConnection {
        var reasons: [String] = []
        for address in configuration.sentinels {
            let primary: (host: String, port: Int)?
            do throws(RedisError) {
                let sentinel = try RedisConnection(url: url(of: address, configuration, dataURL: dataURL),
                                                   connectTimeout: connectTimeout, ioTimeout: ioTimeout)
                defer { sentinel.close() }
                primary = try primaryAddress(from: sentinel.command(["SENTINEL", "get-master-addr-by-name", configuration.masterName]))
            } catch {
                reasons.append("sentinel \(address): \(error)")
                continue
            }
            guard let primary else {
                reasons.append("sentinel \(address) does not monitor \(configuration.masterName)")
                continue
            }
            var target = dataURL
            target.host = primary.host
            target.port = primary.port
            do throws(RedisError) {
                let connection = try RedisConnection(url: target, connectTimeout: connectTimeout, ioTimeout: ioTimeout)
                guard isPrimary(roleReply: try connection.command(["ROLE"])) else {
                    connection.close()
                    reasons.append("sentinel \(address) named \(primary.host):\(primary.port), which is not a primary (yet)")
                    continue
                }
                return connection
            } catch {
                reasons.append("primary \(primary.host):\(primary.port) from sentinel \(address): \(error)")
            }
        }
        throw RedisError(.connectFailed, "no primary for \(configuration.masterName): " + reasons.joined(separator: "; "))
    }
}

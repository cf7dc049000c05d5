/// How to speak TLS to Redis: the `redis.tls.*` keys. Present on a `RedisURL` exactly when
/// its scheme is `rediss://`; a `redis://` URL never uses TLS and a `rediss://` one never
/// falls back to plaintext.
///
/// Debian 12's hiredis (0.14.1) has no TLS, so these connections carry RESP over SwiftNIO +
/// swift-nio-ssl (BoringSSL) instead of hiredis' socket; the encoding (`RESPBuffer`) and the
/// reply parser (hiredis' `redisReader`) are the same as on the plaintext path.
public struct RedisTLSOptions: Sendable, Hashable {
    /// `redis.tls.ca_file`: PEM file of the certificate authorities that may sign the server's
    /// certificate. nil means the system's trust store (`/etc/ssl/certs`). Default nil.
    public var caFile: String?
    /// `redis.tls.cert_file`: PEM client certificate (chain) for mutual TLS
    /// (`tls-auth-clients yes` on the server). Needs `keyFile`. Default nil.
    public var certificateFile: String?
    /// `redis.tls.key_file`: PEM private key of `certificateFile`. Default nil.
    public var keyFile: String?
    /// `redis.tls.server_name`: the name the server's certificate must carry (and the SNI
    /// name sent). nil means the URL's host: a DNS name is matched against the certificate's
    /// DNS names, an IP address against its IP addresses. Default nil.
    public var serverName: String?
    /// `redis.tls.verify`: check the server's certificate chain and name. Default true;
    /// false accepts any certificate (encryption without authentication: for a lab only).
    public var verify: Bool

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil,
                serverName: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
        self.verify = verify
    }

    /// Problems a person can act on (a certificate without its key, an empty name), one per
    /// entry, with the key path; empty when the options are usable. Files are checked when a
    /// connection loads them.
    public var problems: [String] {
        var out: [String] = []
        if (certificateFile == nil) != (keyFile == nil) {
            out.append("redis.tls.cert_file and redis.tls.key_file: mutual TLS needs both the certificate and its key")
        }
        if let serverName, serverName.isEmpty {
            out.append("redis.tls.server_name: must not be empty (leave it out to use the URL's host)")
        }
        return out
    }
}

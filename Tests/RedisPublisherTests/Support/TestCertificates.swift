import Foundation
import RedisPublisher
import QRTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A throw-away PKI made with the openssl CLI for the TLS tests: a CA, a server certificate
/// for `localhost` and `127.0.0.1`, a client certificate for mutual TLS, and a second,
/// unrelated CA (the "wrong CA"). EC P-256 keys, so generating takes milliseconds.
struct TestCertificates {
    let directory: String
    var caFile: String { directory + "/ca.pem" }
    var serverCertificate: String { directory + "/server.pem" }
    var serverKey: String { directory + "/server.key" }
    var clientCertificate: String { directory + "/client.pem" }
    var clientKey: String { directory + "/client.key" }
    var otherCAFile: String { directory + "/other-ca.pem" }

    init() throws {
        directory = NSTemporaryDirectory() + "qr-tls-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n"
            .write(toFile: directory + "/server.ext", atomically: true, encoding: .utf8)
        try "extendedKeyUsage=clientAuth\n".write(toFile: directory + "/client.ext", atomically: true, encoding: .utf8)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for ca in ["ca", "other-ca"] {
            try Self.openssl(["req", "-x509"] + ec + ["-keyout", "\(directory)/\(ca).key", "-out", "\(directory)/\(ca).pem",
                                                    "-days", "2", "-subj", "/CN=quote-relay test \(ca)"])
        }
        for (name, cn) in [("server", "localhost"), ("client", "quote-relay")] {
            try Self.openssl(["req"] + ec + ["-keyout", "\(directory)/\(name).key", "-out", "\(directory)/\(name).csr", "-subj", "/CN=\(cn)"])
            try Self.openssl(["x509", "-req", "-in", "\(directory)/\(name).csr", "-CA", caFile, "-CAkey", "\(directory)/ca.key",
                              "-CAcreateserial", "-out", "\(directory)/\(name).pem", "-days", "2", "-extfile", "\(directory)/\(name).ext"])
        }
    }

    /// redis-server arguments for a TLS-only server on `port` (plaintext port closed).
    func serverArguments(port: Int, requireClientCertificates: Bool) -> [String] {
        ["--port", "0", "--tls-port", String(port), "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey,
         "--tls-ca-cert-file", caFile, "--tls-auth-clients", requireClientCertificates ? "yes" : "no"]
    }

    /// A `rediss://` URL trusting this CA (with the client certificate when `mutual`).
    func url(host: String = "127.0.0.1", port: Int, mutual: Bool = false) -> RedisURL {
        RedisURL(host: host, port: port, tls: RedisTLSOptions(
            caFile: caFile, certificateFile: mutual ? clientCertificate : nil, keyFile: mutual ? clientKey : nil))
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }

    /// Runs the openssl CLI to completion (it exits by itself; output discarded).
    private static func openssl(_ arguments: [String]) throws {
        var fileActions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&fileActions)
        defer { posix_spawn_file_actions_destroy(&fileActions) }
        posix_spawn_file_actions_addopen(&fileActions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&fileActions, 2, "/dev/null", O_WRONLY, 0)
        var cArguments: [UnsafeMutablePointer<CChar>?] = (["openssl"] + arguments).map { strdup($0) } + [nil]
        defer { for p in cArguments { free(p) } }
        var child: pid_t = 0
        guard posix_spawnp(&child, "openssl", &fileActions, nil, &cArguments, environ) == 0 else {
            throw TestFailure("cannot run openssl (is it installed?)")
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else { throw TestFailure("openssl \(arguments.prefix(2).joined(separator: " ")) failed (status \(status))") }
    }
}

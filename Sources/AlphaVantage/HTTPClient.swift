import CCurl
import Dispatch
import Synchronization

/// A status code and body from one HTTP exchange. Any status is a response: mapping 4xx/5xx
/// to errors is the caller's business, because Alpha Vantage reports most failures with 200.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    /// The body after content decoding (libcurl undoes gzip/deflate).
    public var body: [UInt8]

    public init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }
}

/// Why an exchange produced no response. Messages never contain the request URL, so no
/// query parameter (such as an API key) can leak through them.
public enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The connect timeout or the total timeout expired.
    case timeout(String)
    /// DNS, connect, TLS, reset, protocol errors: libcurl's code and text.
    case transport(code: Int, message: String)
    /// The body exceeded `HTTPClientConfiguration.maxBodyBytes`.
    case bodyTooLarge(limit: Int)
    /// The calling task was cancelled; the transfer was aborted.
    case cancelled

    public var description: String {
        switch self {
        case .timeout(let m): "timeout: \(m)"
        case .transport(let code, let m): "transport error (curl \(code)): \(m)"
        case .bodyTooLarge(let limit): "response body larger than \(limit) bytes"
        case .cancelled: "cancelled"
        }
    }
}

/// Limits of every exchange.
public struct HTTPClientConfiguration: Sendable {
    /// TCP + TLS handshake. Default 5 s.
    public var connectTimeout: Duration
    /// The whole exchange, connect included. Default 15 s: a full option chain of a large
    /// underlying is several megabytes.
    public var totalTimeout: Duration
    /// Bodies larger than this are refused rather than buffered. Default 64 MiB.
    public var maxBodyBytes: Int
    public var userAgent: String

    public init(
        connectTimeout: Duration = .seconds(5),
        totalTimeout: Duration = .seconds(15),
        maxBodyBytes: Int = 64 << 20,
        userAgent: String = "quote-relay/1"
    ) {
        self.connectTimeout = connectTimeout
        self.totalTimeout = totalTimeout
        self.maxBodyBytes = maxBodyBytes
        self.userAgent = userAgent
    }
}

/// HTTP GET over libcurl, exposed as async.
///
/// libcurl's easy interface blocks, and blocking calls must stay off NIO event loops and the
/// cooperative pool, so every transfer runs on one private serial dispatch queue. The `CURL*`
/// handle never leaves this type and is only touched on that queue (or in `deinit`, when no
/// transfer can be running); reusing it keeps the connection alive between polls. One queue
/// also means one request in flight, which is all a rate-limited API allows anyway.
public final class HTTPClient: @unchecked Sendable {
    public let configuration: HTTPClientConfiguration
    private let queue = DispatchQueue(label: "quote-relay.http-client")
    /// Confined to `queue`.
    private var handle: UnsafeMutableRawPointer?

    public init(configuration: HTTPClientConfiguration = .init()) {
        CurlGlobal.ensureInitialized()
        self.configuration = configuration
    }

    deinit {
        if let handle { curl_easy_cleanup(handle) }
    }

    /// GETs `url`. `headers` are complete header lines (`Name: value`). Throws
    /// `HTTPClientError` only. Cancelling the calling task aborts the transfer within about a
    /// second (libcurl calls the progress callback at least once a second while it waits).
    public func get(_ url: String, headers: [String] = []) async throws -> HTTPResponse {
        if Task.isCancelled { throw HTTPClientError.cancelled }
        let cancel = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<HTTPResponse, Error>) in
                queue.async {
                    continuation.resume(with: Result { try self.perform(url: url, headers: headers, cancel: cancel) })
                }
            }
        } onCancel: {
            cancel.set()
        }
    }

    /// Runs on `queue` only.
    private func perform(url: String, headers: [String], cancel: CancelFlag) throws -> HTTPResponse {
        if cancel.isSet { throw HTTPClientError.cancelled }
        if handle == nil { handle = curl_easy_init() }
        guard let h = handle else { throw HTTPClientError.transport(code: -1, message: "curl_easy_init failed") }
        curl_easy_reset(h)  // keeps the connection cache, clears every option

        let sink = BodySink(limit: configuration.maxBodyBytes)
        let errorBufferSize = Int(CURL_ERROR_SIZE) + 1
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: errorBufferSize)
        errorBuffer.initialize(repeating: 0, count: errorBufferSize)
        var headerList: UnsafeMutablePointer<curl_slist>?
        for line in headers { headerList = curl_slist_append(headerList, line) }
        defer {
            errorBuffer.deallocate()
            curl_slist_free_all(headerList)
        }

        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        let cancelPointer = Unmanaged.passUnretained(cancel).toOpaque()
        var setup = CURLE_OK
        func set(_ code: CURLcode) { if setup == CURLE_OK { setup = code } }
        set(qr_curl_setopt_string(h, CURLOPT_URL, url))
        set(qr_curl_setopt_long(h, CURLOPT_HTTPGET, 1))
        // Signals cannot time out a resolver safely in a multi-threaded process.
        set(qr_curl_setopt_long(h, CURLOPT_NOSIGNAL, 1))
        set(qr_curl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout)))
        set(qr_curl_setopt_long(h, CURLOPT_TIMEOUT_MS, Self.milliseconds(configuration.totalTimeout)))
        // "" = offer every encoding this libcurl can decode, and decode the answer.
        set(qr_curl_setopt_string(h, CURLOPT_ACCEPT_ENCODING, ""))
        set(qr_curl_setopt_string(h, CURLOPT_USERAGENT, configuration.userAgent))
        set(qr_curl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1))
        set(qr_curl_setopt_long(h, CURLOPT_MAXREDIRS, 3))
        set(qr_curl_setopt_pointer(h, CURLOPT_ERRORBUFFER, errorBuffer))
        set(qr_curl_setopt_write_function(h, curlWrite))
        set(qr_curl_setopt_pointer(h, CURLOPT_WRITEDATA, sinkPointer))
        set(qr_curl_setopt_long(h, CURLOPT_NOPROGRESS, 0))
        set(qr_curl_setopt_xferinfo_function(h, curlProgress))
        set(qr_curl_setopt_pointer(h, CURLOPT_XFERINFODATA, cancelPointer))
        if headerList != nil { set(qr_curl_setopt_slist(h, CURLOPT_HTTPHEADER, headerList)) }
        guard setup == CURLE_OK else {
            throw HTTPClientError.transport(code: Int(setup.rawValue), message: String(cString: curl_easy_strerror(setup)))
        }

        let code = withExtendedLifetime((sink, cancel)) { curl_easy_perform(h) }
        if code != CURLE_OK {
            let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_OPERATION_TIMEDOUT: throw HTTPClientError.timeout(detail)
            case CURLE_ABORTED_BY_CALLBACK where cancel.isSet: throw HTTPClientError.cancelled
            case CURLE_WRITE_ERROR where sink.overflowed: throw HTTPClientError.bodyTooLarge(limit: sink.limit)
            default: throw HTTPClientError.transport(code: Int(code.rawValue), message: detail)
            }
        }
        var status = 0
        _ = qr_curl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &status)
        return HTTPResponse(status: status, body: sink.bytes)
    }

    static func milliseconds(_ d: Duration) -> Int {
        let (seconds, attoseconds) = d.components
        return max(1, Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }
}

/// curl_global_init is not thread-safe and must run once before any handle exists; a
/// Swift global is initialised exactly once, under a lock.
enum CurlGlobal {
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK
    }()

    static func ensureInitialized() { _ = initialized }
}

/// Collects the body on the transfer queue; a class so libcurl can hold a pointer to it.
private final class BodySink {
    let limit: Int
    var bytes: [UInt8] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}

/// Set from any thread by task cancellation, read by libcurl's progress callback.
private final class CancelFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    func set() { flag.store(true, ordering: .relaxed) }
    var isSet: Bool { flag.load(ordering: .relaxed) }
}

private let curlWrite: qr_curl_write_callback = { pointer, size, count, userdata in
    guard let userdata else { return 0 }
    let sink = Unmanaged<BodySink>.fromOpaque(userdata).takeUnretainedValue()
    let length = size * count
    guard sink.bytes.count + length <= sink.limit else {
        sink.overflowed = true
        return 0  // anything but `length` makes libcurl stop with CURLE_WRITE_ERROR
    }
    if let pointer, length > 0 {
        pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            sink.bytes.append(contentsOf: UnsafeBufferPointer(start: $0, count: length))
        }
    }
    return length
}

private let curlProgress: qr_curl_xferinfo_callback = { userdata, _, _, _, _ in
    guard let userdata else { return 0 }
    return Unmanaged<CancelFlag>.fromOpaque(userdata).takeUnretainedValue().isSet ? 1 : 0
}

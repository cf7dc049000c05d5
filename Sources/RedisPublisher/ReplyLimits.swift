import CHiredis

/// Bounds what a Redis server can make hiredis allocate.
///
/// hiredis 0.14.1 (Debian 12) allocates an aggregate's element array as soon as it reads the
/// header, so one line such as `*333333335\r\n` from the server (or anything answering on its
/// port) makes the worker `calloc` 2.6 GB before a single element arrives (found by
/// fuzz/redis; hiredis 1.x added a `maxelements` limit for the same reason). Every reader this
/// module creates gets these object functions instead of hiredis' defaults: identical, except
/// that an aggregate of more than ``maxElements`` elements is refused, which hiredis reports as
/// a reader error (the connection is dropped and re-established, like any protocol error).
enum ReplyLimits {
    /// The largest aggregate accepted: far above anything the worker reads (status hashes of
    /// ~40 fields, SCAN pages, staleness member lists of a few thousand keys), far below a
    /// harmful allocation (8 MiB of pointers).
    static let maxElements: Int32 = 1 << 20

    /// hiredis' own object functions, read once from a fresh reader (they are a static table
    /// inside libhiredis, not exported by name).
    static let defaults: redisReplyObjectFunctions = {
        guard let reader = redisReaderCreate() else { fatalError("hiredis cannot allocate a reader") }
        defer { redisReaderFree(reader) }
        return reader.pointee.fn.pointee
    }()

    /// The functions installed into every reader: hiredis' defaults with a bounded `createArray`.
    /// Written once, at first use, and only read afterwards (hiredis takes a mutable pointer but
    /// never writes through it), so sharing it between connections on different threads is safe.
    nonisolated(unsafe) static let bounded: UnsafeMutablePointer<redisReplyObjectFunctions> = {
        var functions = defaults
        functions.createArray = { task, elements in
            guard elements <= ReplyLimits.maxElements else { return nil }
            return ReplyLimits.defaults.createArray?(task, elements)
        }
        let pointer = UnsafeMutablePointer<redisReplyObjectFunctions>.allocate(capacity: 1)
        pointer.initialize(to: functions)
        return pointer
    }()

    /// Installs the bounded functions into `reader` (a context's, or a standalone reader).
    static func install(into reader: UnsafeMutablePointer<redisReader>) {
        reader.pointee.fn = bounded
    }
}

import BenchReplay
import Foundation
import IBSession
import MarketData
import MarketModel
import RedisPublisher
import Relay
import TWSProtocol

/// `bench-stages`: where one tick's time goes on quote-relay's hot path, stage by stage, on the
/// replay's own pre-encoded flood (8 stocks + 80 options by default). Each stage runs alone over
/// the previous stage's output, so its time is its own:
///
/// 1. framing: `FrameDecoder.feed` of socket-read-sized chunks + `withNextPayload` (the
///    channel handler's loop, without decoding);
/// 2. decoding: `MessageDecoder.decodeServer` of every payload;
/// 3. routing: request id -> subscription, `MarketDataEvent` appended to the read's batch
///    (SessionCore's `route`);
/// 4. merging: the worker's own `MarketBook.apply` (one lookup, the tick merged in place), and
///    beside it, as "merging (before)", what it did until issue 15: the entry copied out of a
///    dictionary, the tick rebuilt as a `ServerMessage`, `TickMerger.apply`, the entry back;
/// 5. record building: one `Record` per line touched in a read (`MarketBook.record`, as the
///    worker's `handleMarketData` does);
/// 6. encoding: each record as the writer's `EVALSHA publish.lua` command (`PayloadEncoder` +
///    `RESPBuffer`), i.e. an upper bound: the writer encodes only what survives coalescing.
///
/// Stage 3 mirrors SessionCore's routing (internal to IBSession); keep it in step.
/// Usage: `bench-stages [rounds] [read-bytes] [repeats]` (defaults 1000, 65536, 5). Under
/// `valgrind --tool=callgrind` run with fewer rounds; each stage is an `@inline(never)`
/// function named `stage*`, so `callgrind_annotate --inclusive=yes` gives its instructions.
@main
enum BenchStages {
    static func main() throws {
        let args = CommandLine.arguments
        let rounds = args.count > 1 ? Int(args[1]) ?? 1000 : 1000
        let readBytes = args.count > 2 ? Int(args[2]) ?? 65_536 : 65_536
        let repeats = args.count > 3 ? Int(args[3]) ?? 5 : 5
        let version = 176

        var lines: [ReplayLine] = []
        var reqId: Int32 = 1
        for stock in 0..<8 {
            lines.append(ReplayLine(reqId: reqId, kind: .stock, key: "quote:S\(stock)"))
            reqId += 1
        }
        for option in 0..<80 {
            lines.append(ReplayLine(reqId: reqId, kind: .option(call: option % 2 == 0), key: "option:O\(option)"))
            reqId += 1
        }
        let plan = ReplayPlan(lines: lines, rounds: rounds, epoch: 1)
        let bytes = plan.encode(serverVersion: version)
        let ticks = plan.messageCount
        print("sizes: ServerMessage \(MemoryLayout<ServerMessage>.size) B, MarketDataEvent \(MemoryLayout<MarketDataEvent>.size) B, "
            + "book entry before issue 15 \(MemoryLayout<BookEntry>.size) B, Record \(MemoryLayout<Record>.size) B")
        print("bench-stages: \(ticks) tick messages, \(bytes.count) bytes, reads of \(readBytes) bytes, best of \(repeats)")

        var results: [(String, Double, String)] = []
        func measure<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
            var best = Double.infinity
            var value: T?
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                value = try body()
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
            }
            results.append((name, best / Double(ticks), ""))
            return value!
        }

        let payloads = try measure("framing") { try stageFraming(bytes, readBytes: readBytes) }
        let messages = try measure("decoding") { try stageDecoding(bytes, payloads.payloads, version: version) }
        var owners: [Int32: SubscriptionID] = [:]
        for line in lines { owners[line.reqId] = SubscriptionID(rawValue: UInt64(line.reqId)) }
        let batches = measure("routing") { stageRouting(messages, reads: payloads.readEnds, owners: owners) }
        var recordCount = 0
        _ = measure("merging (before: entry out and back, ServerMessage rebuilt)") { stageMergingBefore(batches, lines: lines) }
        let merged = measure("merging") { stageMerging(batches, lines: lines) }
        let records = measure("record building") { stageRecords(merged.touched, book: merged.book) }
        recordCount = records.count
        _ = measure("encoding (every record built)") { stageEncoding(records) }

        // The number formatting inside record building, before (text of an interpolation,
        // then trimmed: DecimalFormat until issue 15) and now, over the option records' values.
        let values = records.flatMap { $0.fields.filter(\.isNumber).compactMap { Double($0.value) } }
        let formats: [(String, (Double) -> String?)] = [
            ("format: interpolation + trim (before)", legacyDecimal),
            ("format: DecimalFormat.string (now)", { DecimalFormat.string($0) }),
        ]
        for (name, format) in formats {
            var best = Double.infinity
            for _ in 0..<repeats {
                let start = DispatchTime.now().uptimeNanoseconds
                var bytes = 0
                for v in values { bytes &+= format(v)?.utf8.count ?? 0 }
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
                if bytes == 0 { print("") }
            }
            print("\(name): \(String(format: "%.1f", best / Double(max(1, values.count)))) ns per number (\(values.count) numbers)")
        }
        print("reads: \(payloads.readEnds.count), records built: \(recordCount) (\(String(format: "%.4f", Double(recordCount) / Double(ticks))) per tick)")
        print("| stage | ns per tick |")
        print("|---|--:|")
        var total = 0.0
        for (name, ns, _) in results {
            print("| \(name) | \(String(format: "%.1f", ns)) |")
            if !name.contains("(before") { total += ns }
        }
        print("| total (without the before rows) | \(String(format: "%.1f", total)) |")
        if recordCount > 0 {
            let perRecord = results.first { $0.0 == "record building" }!.1 * Double(ticks) / Double(recordCount)
            let encPerRecord = results.last!.1 * Double(ticks) / Double(recordCount)
            print("per record: building \(Int(perRecord)) ns, encoding \(Int(encPerRecord)) ns")
        }
    }
}

/// DecimalFormat.string as it was before issue 15, for the before/after line.
@inline(never)
func legacyDecimal(_ value: Double) -> String? {
    guard value.isFinite else { return nil }
    if value == 0 { return "0" }
    if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
    let shortest = "\(value)"
    guard shortest.firstIndex(where: { $0 == "e" || $0 == "E" }) == nil else { return DecimalFormat.string(value) }
    guard shortest.contains(".") else { return shortest }
    var out = Substring(shortest)
    while out.hasSuffix("0") { out = out.dropLast() }
    if out.hasSuffix(".") { out = out.dropLast() }
    return String(out)
}

struct Framed {
    /// Where each payload lies in the replay's bytes (framing hands the decoder a borrowed
    /// view of its buffer; the decoding stage borrows the same bytes from here).
    var payloads: [Range<Int>]
    /// Index into `payloads` after each socket read.
    var readEnds: [Int]
}

/// The channel handler's loop without the decoder: feed a read, lend out every whole payload.
@inline(never)
func stageFraming(_ bytes: [UInt8], readBytes: Int) throws -> Framed {
    var frames = FrameDecoder()
    var out = Framed(payloads: [], readEnds: [])
    out.payloads.reserveCapacity(bytes.count / 30)
    var offset = 0
    var consumed = 0
    try bytes.withUnsafeBytes { all in
        while offset < all.count {
            let end = min(all.count, offset + readBytes)
            frames.feed(UnsafeRawBufferPointer(rebasing: all[offset..<end]))
            offset = end
            while let length = try frames.withNextPayload({ $0.count }) {
                out.payloads.append(consumed + 4..<consumed + 4 + length)
                consumed += 4 + length
            }
            out.readEnds.append(out.payloads.count)
        }
    }
    return out
}

@inline(never)
func stageDecoding(_ bytes: [UInt8], _ payloads: [Range<Int>], version: Int) throws -> [ServerMessage] {
    var out: [ServerMessage] = []
    out.reserveCapacity(payloads.count)
    try bytes.withUnsafeBytes { all in
        for range in payloads {
            out.append(try MessageDecoder.decodeServer(UnsafeRawBufferPointer(rebasing: all[range]), serverVersion: version))
        }
    }
    return out
}

/// SessionCore.received + route: one dictionary lookup and an append per tick; one batch per read.
@inline(never)
func stageRouting(_ messages: [ServerMessage], reads: [Int], owners: [Int32: SubscriptionID]) -> [[MarketDataEvent]] {
    var batches: [[MarketDataEvent]] = []
    var start = 0
    var batch: [MarketDataEvent] = []
    batch.reserveCapacity(1024)
    for end in reads {
        for message in messages[start..<end] {
            let reqId: Int32
            let tick: Tick
            switch message {
            case .tickPrice(let id, let tickType, let price, let size, let attrMask):
                reqId = id
                tick = .price(tickType: tickType, price: price, size: size, attrMask: attrMask)
            case .tickSize(let id, let tickType, let size):
                reqId = id
                tick = .size(tickType: tickType, size: size)
            case .tickOptionComputation(let c):
                reqId = c.reqId
                tick = .optionComputation(c)
            default:
                continue
            }
            if let id = owners[reqId] { batch.append(MarketDataEvent(subscription: id, tick: tick)) }
        }
        start = end
        batches.append(batch)
        batch.removeAll(keepingCapacity: true)
    }
    return batches
}

enum BookEntry {
    case quote(symbol: String, merger: TickMerger<QuoteSnapshot>)
    case option(symbol: String, merger: TickMerger<OptionSnapshot>)
}

func makeBook(_ lines: [ReplayLine]) -> [SubscriptionID: BookEntry] {
    var book: [SubscriptionID: BookEntry] = [:]
    for line in lines {
        let id = SubscriptionID(rawValue: UInt64(line.reqId))
        switch line.kind {
        case .stock: book[id] = .quote(symbol: line.key, merger: TickMerger(symbol: line.key))
        case .option(let call):
            var s = OptionSnapshot(symbol: "AAPL", expiry: "20261218", strike: 230, right: call ? .call : .put)
            s.tradingClass = "AAPL"
            s.multiplier = 100
            s.conId = 1234
            book[id] = .option(symbol: "AAPL", merger: TickMerger(s))
        }
    }
    return book
}

/// MarketBook.apply as the worker did it until issue 15: the entry out, the tick rebuilt as a
/// ServerMessage, merged, the entry back.
@inline(never)
func stageMergingBefore(_ batches: [[MarketDataEvent]], lines: [ReplayLine]) -> [SubscriptionID: BookEntry] {
    var book = makeBook(lines)
    for batch in batches {
        for event in batch {
            guard var entry = book[event.subscription] else { continue }
            let message = event.tick.serverMessageForBench
            switch entry {
            case .quote(let symbol, var merger):
                _ = merger.apply(message)
                entry = .quote(symbol: symbol, merger: merger)
            case .option(let symbol, var merger):
                _ = merger.apply(message)
                entry = .option(symbol: symbol, merger: merger)
            }
            book[event.subscription] = entry
        }
    }
    return book
}

/// The worker's book with the replay's lines: 8 quotes, 80 options of one underlying.
func makeMarketBook(_ lines: [ReplayLine]) -> MarketBook {
    var book = MarketBook()
    for (n, line) in lines.enumerated() {
        let id = SubscriptionID(rawValue: UInt64(line.reqId))
        switch line.kind {
        case .stock:
            book.addQuote(id, symbol: line.key, contract: Contract(conId: Int64(n + 1), symbol: line.key), monoMs: 0)
        case .option(let call):
            let key = OptionKey(expiry: "20261218", strike: Double(200 + n), right: call ? .call : .put, tradingClass: "AAPL")
            let contract = Contract(
                conId: Int64(1000 + n), symbol: "AAPL", secType: "OPT", lastTradeDateOrContractMonth: "20261218",
                strike: key.strike, right: call ? "C" : "P", multiplier: "100", tradingClass: "AAPL")
            book.addOption(id, symbol: "AAPL", key: key, contract: contract, monoMs: 0)
        }
    }
    return book
}

/// The worker's `MarketBook.apply`, batch by batch as `handleMarketData` calls it, collecting
/// the lines each read touched (the book says which tick is a line's first of the batch).
@inline(never)
func stageMerging(_ batches: [[MarketDataEvent]], lines: [ReplayLine]) -> (book: MarketBook, touched: [[SubscriptionID]]) {
    var book = makeMarketBook(lines)
    var touchedPerRead: [[SubscriptionID]] = []
    touchedPerRead.reserveCapacity(batches.count)
    for batch in batches {
        book.beginBatch()
        var touched: [SubscriptionID] = []
        for event in batch {
            if let applied = book.apply(event.tick, to: event.subscription), applied.firstInBatch { touched.append(event.subscription) }
        }
        touchedPerRead.append(touched)
    }
    return (book, touchedPerRead)
}

/// One record per line touched in a read (the worker writes every touched line).
@inline(never)
func stageRecords(_ touchedPerRead: [[SubscriptionID]], book: MarketBook) -> [Record] {
    var out: [Record] = []
    for touched in touchedPerRead {
        for id in touched {
            if let record = book.record(for: id, source: .ib, nowMs: 1_764_000_000_000) { out.append(record) }
        }
    }
    return out
}

/// The writer's `encodePublish` for each record (EVALSHA publish.lua with the payload).
@inline(never)
func stageEncoding(_ records: [Record]) -> Int {
    var buffer = RESPBuffer(reservingCapacity: 1 << 20)
    var payload: [UInt8] = []
    var total = 0
    let sha = String(repeating: "a", count: 40)
    for record in records {
        let key = "qr:" + record.key
        buffer.beginCommand(argumentCount: 16 + 2 * record.fields.count)
        buffer.argument("EVALSHA")
        buffer.argument(sha)
        buffer.argument(3)
        buffer.argument(key)
        buffer.argument("qr:updated")
        buffer.argument("qr:stream")
        buffer.argument(record.key)
        buffer.argument(record.updatedMs)
        buffer.argument(300_000)
        PayloadEncoder.encode(record, prefixedKey: key, into: &payload)
        buffer.argument(bytes: payload)
        buffer.argument(0)
        buffer.argument(0)
        buffer.argument("stale")
        buffer.argument("0")
        buffer.argument("seq")
        buffer.argument("0")
        for field in record.fields {
            buffer.argument(field.name)
            buffer.argument(field.value)
        }
        if buffer.bytes.count > 1 << 20 {
            total += buffer.bytes.count
            buffer.removeAll()
        }
    }
    return total + buffer.bytes.count
}

extension Tick {
    /// Worker's `Tick.serverMessage` (MarketBook.swift).
    var serverMessageForBench: ServerMessage {
        switch self {
        case let .price(tickType, price, size, attrMask):
            .tickPrice(reqId: 0, tickType: tickType, price: price, size: size, attrMask: attrMask)
        case let .size(tickType, size): .tickSize(reqId: 0, tickType: tickType, size: size)
        case let .string(tickType, value): .tickString(reqId: 0, tickType: tickType, value: value)
        case let .generic(tickType, value): .tickGeneric(reqId: 0, tickType: tickType, value: value)
        case let .optionComputation(c): .tickOptionComputation(c)
        case let .marketDataType(t): .marketDataType(reqId: 0, marketDataType: t)
        }
    }
}

import HeapModule

/// A recorded trace to replay as a workload's arrivals and request sizes. See docs/traces.md.
public struct TraceReplaySpec: Sendable, Equatable {
    /// How the file is laid out.
    public enum Format: Sendable, Equatable {
        /// Azure LLM inference trace 2023: CSV with `TIMESTAMP` (a datetime), `ContextTokens`, `GeneratedTokens`.
        case azure
        /// Mooncake (FAST '25): JSON lines with `timestamp` (ms), `input_length`, `output_length`, `hash_ids`.
        case mooncake
        /// Any CSV with a header row, its columns named by `CSVColumns`.
        case csv(CSVColumns)
    }

    /// The unit of a CSV's numeric timestamp column.
    public enum TimestampUnit: String, Sendable, Equatable, CaseIterable {
        case s, ms, us, ns

        /// The unit's length in nanoseconds.
        public var nanoseconds: Int64 {
            switch self {
            case .s: return 1_000_000_000
            case .ms: return 1_000_000
            case .us: return 1_000
            case .ns: return 1
            }
        }
    }

    /// The header names of a generic CSV trace's columns.
    public struct CSVColumns: Sendable, Equatable {
        /// Arrival time, a non-negative decimal number of `timestampUnit`.
        public var timestamp: String
        public var timestampUnit: TimestampUnit
        /// Prompt tokens, an integer >= 0.
        public var inputTokens: String
        /// Output tokens, an integer >= 0 (0 is served as 1).
        public var outputTokens: String

        public init(timestamp: String, timestampUnit: TimestampUnit, inputTokens: String, outputTokens: String) {
            self.timestamp = timestamp
            self.timestampUnit = timestampUnit
            self.inputTokens = inputTokens
            self.outputTokens = outputTokens
        }
    }

    /// The file, as resolved by the loader (absolute, or relative to the current directory).
    public var path: String
    public var format: Format
    /// Trace time is divided by this (2 replays twice as fast); nil is 1.
    public var speedUp: Double?
    /// Instead of `speedUp`: scale time so that the mean rate over the window is this.
    public var targetRatePerSecond: Double?
    /// The trace-relative span `[start, end)` to replay, measured from the file's first row; nil is all of it.
    public var window: Range<SimTime>?
    /// At the end of the window, start again, offset by the window's scaled length; forever.
    public var loop: Bool
    /// Tokens per Mooncake block hash.
    public var tokensPerHash: Int
    /// Trace time over which each request is moved, uniformly at random, after its recorded timestamp: for traces
    /// whose timestamps are quantized (Mooncake's to 3 s), which would otherwise arrive as simultaneous bursts.
    public var spread: SimTime?

    public init(
        path: String, format: Format, speedUp: Double? = nil, targetRatePerSecond: Double? = nil,
        window: Range<SimTime>? = nil, loop: Bool = false, tokensPerHash: Int = 512, spread: SimTime? = nil
    ) {
        self.spread = spread
        self.path = path
        self.format = format
        self.speedUp = speedUp
        self.targetRatePerSecond = targetRatePerSecond
        self.window = window
        self.loop = loop
        self.tokensPerHash = tokensPerHash
    }
}

/// One request of a trace, at its simulated arrival time.
public struct TraceRequest: Sendable, Equatable {
    /// Simulated time: 0 is the window's start.
    public var arrival: SimTime
    public var inputTokens: Int
    /// At least 1.
    public var outputTokens: Int
    /// The prompt's prefix blocks (Mooncake's `hash_ids`, full blocks only); nil when the trace has none.
    public var prefix: PromptPrefix?

    public init(arrival: SimTime, inputTokens: Int, outputTokens: Int, prefix: PromptPrefix?) {
        self.arrival = arrival
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.prefix = prefix
    }
}

/// What one pass over a trace's window found, before any time scaling.
public struct TraceStats: Sendable, Equatable {
    /// Requests in the window.
    public var count: Int
    /// The first and last of them, trace-relative (from the file's first row, not the window's start).
    public var firstArrival: SimTime
    public var lastArrival: SimTime
    /// Prompt tokens summed over the window.
    public var inputTokens: Int
    /// Output tokens summed over the window, as replayed (0 counts as 1).
    public var outputTokens: Int
    /// Requests per second of trace time: count / window length for an explicit window; for the whole trace
    /// (count − 1) / (last − first), the rate whose mean gap a loop inserts between passes. 0 if undefined.
    public var meanRatePerSecond: Double

    public init(
        count: Int, firstArrival: SimTime, lastArrival: SimTime, inputTokens: Int, outputTokens: Int,
        meanRatePerSecond: Double
    ) {
        self.count = count
        self.firstArrival = firstArrival
        self.lastArrival = lastArrival
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.meanRatePerSecond = meanRatePerSecond
    }
}

/// A trace that cannot be replayed: a file that cannot be read, or a malformed row.
public struct TraceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var path: String
    /// 1-based line; 0 for the file as a whole.
    public var line: Int
    /// 1-based byte column, when known.
    public var column: Int?
    /// What was expected and what was found.
    public var message: String

    public init(path: String, line: Int, column: Int?, message: String) {
        self.path = path
        self.line = line
        self.column = column
        self.message = message
    }

    /// `PATH:LINE[:COLUMN]: MESSAGE`, or `PATH: MESSAGE` for the file as a whole.
    public var description: String {
        guard line > 0 else { return "\(path): \(message)" }
        return "\(path):\(line)\(column.map { ":\($0)" } ?? ""): \(message)"
    }
}

/// Checks and measures traces.
public enum TraceReplay {
    /// One streaming pass over the whole file: validates every row, and measures the window.
    ///
    /// Rows must be in non-decreasing time order; a row earlier than the one before is an error (see
    /// docs/traces.md for why this is not repaired by sorting or clamping).
    /// - Complexity: O(rows) time, O(longest line) memory.
    public static func scan(_ spec: TraceReplaySpec) throws(TraceError) -> TraceStats {
        let lines = try LineReader(path: spec.path)
        let parser = try TraceRowParser(spec: spec, lines: lines)
        let window = spec.window.map { $0.lowerBound.nanoseconds..<$0.upperBound.nanoseconds }
        var origin: Int64?
        var previous = Int64.min
        var count = 0, input = 0, output = 0
        var first: Int64 = 0, last: Int64 = 0
        while let line = lines.next() {
            guard let row = try parser.parse(line, lineNumber: lines.lineNumber, collectHashes: false) else {
                continue
            }
            guard row.time >= previous else {
                throw TraceError(
                    path: spec.path, line: lines.lineNumber, column: row.timeColumn,
                    message:
                        "this row's time is \(SimTime(nanoseconds: previous - row.time)) before the previous row's; replay needs rows in arrival order (sort the file by time)"
                )
            }
            previous = row.time
            let start = origin ?? row.time
            origin = start
            let relative = row.time - start
            if let window, !window.contains(relative) { continue }
            if count == 0 { first = relative }
            last = relative
            count += 1
            input += row.inputTokens
            output += row.outputTokens
        }
        if lines.failed {
            throw TraceError(
                path: spec.path, line: lines.lineNumber + 1, column: nil, message: "the file could not be read")
        }
        let rate: Double
        if let window = spec.window {
            let length = (window.upperBound - window.lowerBound).seconds
            rate = length > 0 ? Double(count) / length : 0
        } else {
            rate = count >= 2 && last > first ? Double(count - 1) / SimTime(nanoseconds: last - first).seconds : 0
        }
        return TraceStats(
            count: count, firstArrival: SimTime(nanoseconds: first), lastArrival: SimTime(nanoseconds: last),
            inputTokens: input, outputTokens: output, meanRatePerSecond: rate)
    }
}

/// Streams a trace's requests in arrival order, scaled, windowed and looped as its spec says.
///
/// Holds one line of the file at a time. The file is expected to be the one `stats` came from: if it changed
/// and a row no longer parses, the stream ends there.
public final class TraceReader {
    public let spec: TraceReplaySpec
    public let stats: TraceStats
    private let lines: LineReader
    private let parser: TraceRowParser
    private let start: Int64
    private let end: Int64
    /// Trace time per simulated time; exactly 1 keeps integer arithmetic.
    private let speed: Double
    /// The mean arrival rate of the replay, requests per (simulated) second.
    public var ratePerSecond: Double { stats.meanRatePerSecond * speed }
    /// The scaled length of one pass, for looping.
    private let period: Int64
    private var pass: Int64 = 0
    private var yieldedThisPass = false
    private var origin: Int64?
    private var finished = false
    /// With `spread`: the stream of each request's move, its length in simulated nanoseconds, the requests moved
    /// and not yet returned (earliest first; ties in file order), and the next request as recorded.
    private let spreadStream: RandomStream?
    private var spreadNanoseconds: Double = 0
    private var moved = Heap<Moved>()
    private var recorded: TraceRequest?
    private var readCount = 0

    /// A request with its moved arrival, ordered by arrival then by its place in the file.
    private struct Moved: Comparable {
        var request: TraceRequest
        var order: Int
        static func < (a: Moved, b: Moved) -> Bool {
            (a.request.arrival, a.order) < (b.request.arrival, b.order)
        }
        static func == (a: Moved, b: Moved) -> Bool { a.request.arrival == b.request.arrival && a.order == b.order }
    }

    /// Opens the trace; throws if it cannot be read, or if the spec asks for a rate or a loop that `stats`
    /// cannot define (fewer than two distinct arrival times in a whole-trace window). A spec with `spread` draws
    /// each request's move from `spreadStream` (without one, requests keep their recorded times).
    public init(spec: TraceReplaySpec, stats: TraceStats, spreadStream: RandomStream? = nil) throws(TraceError) {
        self.spec = spec
        self.stats = stats
        self.spreadStream = spec.spread == nil ? nil : spreadStream
        self.lines = try LineReader(path: spec.path)
        self.parser = try TraceRowParser(spec: spec, lines: lines)
        self.start = spec.window?.lowerBound.nanoseconds ?? 0
        self.end = spec.window?.upperBound.nanoseconds ?? .max
        if let target = spec.targetRatePerSecond {
            guard stats.meanRatePerSecond > 0 else {
                throw TraceError(
                    path: spec.path, line: 0, column: nil,
                    message: "a target rate needs a window with a mean rate, and this one has \(stats.count) requests")
            }
            speed = target / stats.meanRatePerSecond
        } else {
            speed = spec.speedUp ?? 1
        }
        precondition(speed > 0 && speed.isFinite, "a trace's speed-up is a positive number")
        let length: Double
        if let window = spec.window {
            length = Double((window.upperBound - window.lowerBound).nanoseconds)
        } else if stats.count >= 2, stats.lastArrival > stats.firstArrival {
            // The span plus one mean gap, so the loop keeps the trace's mean rate across the seam.
            let span = Double((stats.lastArrival - stats.firstArrival).nanoseconds)
            length = span * Double(stats.count) / Double(stats.count - 1)
        } else {
            length = 0
        }
        period = Self.nanoseconds(length / speed)
        spreadNanoseconds = Double(spec.spread?.nanoseconds ?? 0) / speed
        if spec.loop && period <= 0 {
            throw TraceError(
                path: spec.path, line: 0, column: nil,
                message: "looping needs a window of positive length; this one has \(stats.count) requests at one time")
        }
    }

    /// The next request, or nil when the window is done (never, when looping).
    /// - Complexity: amortized O(rows per request returned): rows before the window are read and skipped; with
    ///   `spread`, O(log n) more for the n requests whose moved times overlap.
    public func next() -> TraceRequest? {
        guard let stream = spreadStream else { return nextRecorded() }
        // A move only delays, so a moved request can be returned once the next recorded time is not earlier.
        while true {
            if recorded == nil { recorded = nextRecorded() }
            if let earliest = moved.min, recorded.map({ earliest.request.arrival <= $0.arrival }) ?? true {
                return moved.removeMin().request
            }
            guard var request = recorded else { return nil }
            recorded = nil
            let delay = Self.nanoseconds(stream.uniform() * spreadNanoseconds)
            let (arrival, overflow) = request.arrival.nanoseconds.addingReportingOverflow(delay)
            request.arrival = overflow ? .max : SimTime(nanoseconds: arrival)
            moved.insert(Moved(request: request, order: readCount))
            readCount += 1
        }
    }

    /// The next request at its recorded (scaled) time.
    private func nextRecorded() -> TraceRequest? {
        while !finished {
            guard let line = lines.next() else {
                startOver()
                continue
            }
            let parsed: TraceRow?
            do {
                parsed = try parser.parse(line, lineNumber: lines.lineNumber, collectHashes: true)
            } catch {
                finished = true
                return nil
            }
            guard let row = parsed else { continue }
            let first = origin ?? row.time
            origin = first
            let relative = row.time &- first
            if relative < start { continue }
            if relative >= end {
                startOver()
                continue
            }
            yieldedThisPass = true
            let offset = Self.nanoseconds(Double(relative - start) / speed, exact: speed == 1 ? relative - start : nil)
            let (shift, overflow) = pass.multipliedReportingOverflow(by: period)
            let arrival = overflow ? SimTime.max : SimTime(nanoseconds: shift) + SimTime(nanoseconds: offset)
            let prefix = row.hashes.isEmpty ? nil : PromptPrefix(hashes: row.hashes, tokensPerHash: spec.tokensPerHash)
            return TraceRequest(
                arrival: arrival, inputTokens: row.inputTokens, outputTokens: row.outputTokens, prefix: prefix)
        }
        return nil
    }

    /// Ends the stream, or with `loop` rewinds to the window's start for the next pass.
    private func startOver() {
        // A pass that yields nothing would spin forever.
        guard spec.loop, yieldedThisPass else {
            finished = true
            return
        }
        pass += 1
        yieldedThisPass = false
        lines.rewind()
        if parser.hasHeader { _ = lines.next() }
    }

    /// `value` rounded to whole nanoseconds, saturating; `exact` when the caller has it.
    private static func nanoseconds(_ value: Double, exact: Int64? = nil) -> Int64 {
        if let exact { return exact }
        guard value < 9.2e18 else { return .max }
        return Int64(value.rounded())
    }
}

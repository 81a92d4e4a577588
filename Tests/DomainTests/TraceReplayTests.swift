import Fleet
import Foundation
import TestSupport
import Testing

/// A fixture trace's URL (Fixtures/traces, see SOURCE.md there).
private func tracePath(_ name: String) throws -> String {
    try #require(
        Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures/traces"),
        "missing fixture \(name)"
    ).path
}

/// A request as the tests expect it, computed by a naive full parse independent of the reader's.
private struct Expected: Equatable {
    var time: Int64
    var input: Int
    var output: Int
    var hashes: [UInt64] = []
}

/// The Azure CSV read with Foundation: dates through a UTC calendar, the fraction padded to nanoseconds.
private func naiveAzure(_ path: String) throws -> [Expected] {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = try #require(TimeZone(identifier: "UTC"))
    let text = try String(contentsOfFile: path, encoding: .utf8)
    var rows: [Expected] = []
    for line in text.split(whereSeparator: \.isNewline).dropFirst() {
        let cells = line.split(separator: ",")
        let parts = cells[0].split(separator: " ")
        let date = parts[0].split(separator: "-").map { Int($0)! }
        let clock = parts[1].split(separator: ":")
        let secondParts = clock[2].split(separator: ".")
        let day = try #require(calendar.date(from: DateComponents(year: date[0], month: date[1], day: date[2])))
        let seconds =
            Int64(day.timeIntervalSince1970) + Int64(clock[0])! * 3600 + Int64(clock[1])! * 60 + Int64(secondParts[0])!
        let fraction = Int64(secondParts[1].padding(toLength: 9, withPad: "0", startingAt: 0))!
        rows.append(Expected(time: seconds * 1_000_000_000 + fraction, input: Int(cells[1])!, output: Int(cells[2])!))
    }
    let origin = rows[0].time
    return rows.map { Expected(time: $0.time - origin, input: $0.input, output: max(1, $0.output)) }
}

/// The Mooncake JSON lines read with JSONSerialization; the prefix keeps full 512-token blocks only.
private func naiveMooncake(_ path: String) throws -> [Expected] {
    let text = try String(contentsOfFile: path, encoding: .utf8)
    return try text.split(separator: "\n").map { line in
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let input = try #require(object["input_length"] as? Int)
        let hashes = try #require(object["hash_ids"] as? [Int]).map { UInt64($0) }
        return Expected(
            time: Int64(try #require(object["timestamp"] as? Int)) * 1_000_000, input: input,
            output: max(1, try #require(object["output_length"] as? Int)), hashes: Array(hashes.prefix(input / 512)))
    }
}

/// Every request of a finite stream (at most `limit`).
private func drain(_ reader: TraceReader, limit: Int = 100_000) -> [TraceRequest] {
    var requests: [TraceRequest] = []
    while requests.count < limit, let request = reader.next() { requests.append(request) }
    return requests
}

private func read(_ spec: TraceReplaySpec, limit: Int = 100_000) throws -> (TraceStats, [TraceRequest]) {
    let stats = try TraceReplay.scan(spec)
    return (stats, drain(try TraceReader(spec: spec, stats: stats), limit: limit))
}

/// A temporary file holding `text`.
private func temporaryFile(_ text: String, suffix: String) throws -> String {
    try TemporaryDirectory.file(text, prefix: "trace", suffix: suffix)
}

@Suite struct TraceReplayTests {
    @Test func azureAtScaleOneReproducesTheTrace() throws {
        let path = try tracePath("azure-conv-200.csv")
        let expected = try naiveAzure(path)
        let (stats, requests) = try read(TraceReplaySpec(path: path, format: .azure))
        #expect(expected.count == 200)
        #expect(stats.count == expected.count)
        #expect(stats.inputTokens == expected.reduce(0) { $0 + $1.input })
        #expect(stats.outputTokens == expected.reduce(0) { $0 + $1.output })
        #expect(stats.firstArrival == .zero && stats.lastArrival.nanoseconds == expected.last!.time)
        #expect(
            requests.map { Expected(time: $0.arrival.nanoseconds, input: $0.inputTokens, output: $0.outputTokens) }
                == expected)
        #expect(requests.allSatisfy { $0.prefix == nil })
        // (n − 1) gaps over the span.
        #expect(stats.meanRatePerSecond == 199 / SimTime(nanoseconds: expected.last!.time).seconds)
    }

    @Test func mooncakeAtScaleOneReproducesTheTraceWithFullBlockPrefixes() throws {
        let path = try tracePath("mooncake-conversation-200.jsonl")
        let expected = try naiveMooncake(path)
        let (stats, requests) = try read(TraceReplaySpec(path: path, format: .mooncake))
        #expect(stats.count == 200 && requests.count == 200)
        #expect(stats.inputTokens == expected.reduce(0) { $0 + $1.input })
        #expect(stats.outputTokens == expected.reduce(0) { $0 + $1.output })
        for (request, row) in zip(requests, expected) {
            #expect(request.arrival.nanoseconds == row.time && request.inputTokens == row.input)
            #expect(request.outputTokens == row.output)
            if row.hashes.isEmpty {
                #expect(request.prefix == nil)
            } else {
                #expect(request.prefix == PromptPrefix(hashes: row.hashes, tokensPerHash: 512))
                #expect(request.prefix?.tokens == row.input / 512 * 512)
            }
            #expect((request.prefix?.tokens ?? 0) <= request.inputTokens)
        }
        // The fixture's first row: 6,758 tokens, 14 hashes, 13 full blocks.
        #expect(requests[0].prefix?.tokens == 13 * 512)
        #expect(requests[0].prefix == PromptPrefix(hashes: Array(0...12), tokensPerHash: 512))
    }

    @Test func aGenericCSVMapsColumnsByNameAndZeroOutputsToOne() throws {
        let columns = TraceReplaySpec.CSVColumns(
            timestamp: "t_ms", timestampUnit: .ms, inputTokens: "prompt", outputTokens: "completion")
        let (stats, requests) = try read(TraceReplaySpec(path: try tracePath("tiny.csv"), format: .csv(columns)))
        #expect(
            requests == [
                TraceRequest(arrival: .zero, inputTokens: 100, outputTokens: 20, prefix: nil),
                TraceRequest(arrival: .microseconds(250_500), inputTokens: 2048, outputTokens: 1, prefix: nil),
                TraceRequest(arrival: .microseconds(250_500), inputTokens: 7, outputTokens: 3, prefix: nil),
                TraceRequest(arrival: .seconds(1), inputTokens: 512, outputTokens: 128, prefix: nil),
                // 1999.9999996 ms is 1,999,999,999.6 ns, rounded half up.
                TraceRequest(arrival: .seconds(2), inputTokens: 1, outputTokens: 1, prefix: nil),
            ])
        #expect(stats.count == 5 && stats.inputTokens == 2668 && stats.outputTokens == 153)
    }

    @Test func datetimesCountAcrossDaysMonthsLeapDaysAndYears() throws {
        let text = """
            GeneratedTokens,TIMESTAMP,ContextTokens
            1,2023-12-31 23:59:59.5,10
            2,2024-01-01T00:00:00.25,20
            3,2024-02-28 00:00:00,30
            4,2024-03-01 00:00:00.000000001,40

            """
        let path = try temporaryFile(text, suffix: ".csv")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (_, requests) = try read(TraceReplaySpec(path: path, format: .azure))
        let day: Int64 = 86_400_000_000_000
        #expect(
            requests.map(\.arrival.nanoseconds) == [
                0, 750_000_000, 500_000_000 + 58 * day, 500_000_000 + 60 * day + 1,
            ])
        #expect(requests.map(\.inputTokens) == [10, 20, 30, 40] && requests.map(\.outputTokens) == [1, 2, 3, 4])
    }

    @Test func speedUpTwoHalvesEveryArrival() throws {
        let path = try tracePath("azure-conv-200.csv")
        let (_, normal) = try read(TraceReplaySpec(path: path, format: .azure))
        let (_, fast) = try read(TraceReplaySpec(path: path, format: .azure, speedUp: 2))
        #expect(fast.count == normal.count)
        // Azure times have 7 fractional digits, so every relative time is a multiple of 100 ns: halving is exact.
        #expect(fast.map(\.arrival.nanoseconds) == normal.map { $0.arrival.nanoseconds / 2 })
        #expect(fast.map(\.inputTokens) == normal.map(\.inputTokens))
    }

    @Test(arguments: [5.0, 40.0, 1_000.0])
    func targetRateGivesThatMeanRate(target: Double) throws {
        let path = try tracePath("azure-conv-200.csv")
        let (stats, requests) = try read(TraceReplaySpec(path: path, format: .azure, targetRatePerSecond: target))
        let span = (requests.last!.arrival - requests.first!.arrival).seconds
        #expect(abs(Double(stats.count - 1) / span / target - 1) < 1e-6)

        // With a window, the rate is requests over the window's scaled length: one loop pass.
        let window = SimTime.seconds(10)..<SimTime.seconds(40)
        let spec = TraceReplaySpec(path: path, format: .azure, targetRatePerSecond: target, window: window, loop: true)
        let windowStats = try TraceReplay.scan(spec)
        let looped = drain(try TraceReader(spec: spec, stats: windowStats), limit: windowStats.count + 1)
        let period = (looped[windowStats.count].arrival - looped[0].arrival).seconds
        #expect(abs(Double(windowStats.count) / period / target - 1) < 1e-6)
    }

    @Test func aWindowSelectsExactlyTheRowsInItsHalfOpenSpan() throws {
        let path = try tracePath("mooncake-conversation-200.jsonl")
        let expected = try naiveMooncake(path)
        // Mooncake times come in 3 s steps, so bounds at 9 s and 30 s sit on rows: start included, end excluded.
        let start = SimTime.seconds(9), end = SimTime.seconds(30)
        #expect(expected.contains { $0.time == start.nanoseconds } && expected.contains { $0.time == end.nanoseconds })
        let inside = expected.filter { $0.time >= start.nanoseconds && $0.time < end.nanoseconds }
        let (stats, requests) = try read(TraceReplaySpec(path: path, format: .mooncake, window: start..<end))
        #expect(stats.count == inside.count && requests.count == inside.count)
        #expect(stats.firstArrival.nanoseconds == inside.first!.time)
        #expect(stats.lastArrival.nanoseconds == inside.last!.time)
        #expect(stats.inputTokens == inside.reduce(0) { $0 + $1.input })
        #expect(stats.meanRatePerSecond == Double(inside.count) / 21)
        #expect(requests.map(\.arrival.nanoseconds) == inside.map { $0.time - start.nanoseconds })
        #expect(requests.map(\.inputTokens) == inside.map(\.input))
    }

    @Test func aLoopRepeatsTheWindowOffsetByItsScaledLength() throws {
        let path = try tracePath("mooncake-conversation-200.jsonl")
        let window = SimTime.seconds(9)..<SimTime.seconds(30)
        let once = try read(TraceReplaySpec(path: path, format: .mooncake, window: window)).1
        let spec = TraceReplaySpec(path: path, format: .mooncake, speedUp: 3, window: window, loop: true)
        let looped = try read(spec, limit: 3 * once.count + 1).1
        #expect(looped.count == 3 * once.count + 1)
        for pass in 0..<3 {
            let slice = looped[(pass * once.count)..<((pass + 1) * once.count)]
            // 21 s of trace at speed 3 is 7 s per pass.
            let expected = once.map { request in
                SimTime.seconds(Int64(7 * pass))
                    + .nanoseconds(Int64((Double(request.arrival.nanoseconds) / 3).rounded()))
            }
            #expect(slice.map(\.arrival) == expected)
            #expect(slice.map(\.prefix) == once.map(\.prefix))
        }
        #expect(looped.last!.arrival == .seconds(21))
    }

    @Test func aWholeTraceLoopAddsOneMeanGapBetweenPasses() throws {
        let path = try tracePath("tiny.csv")
        let columns = TraceReplaySpec.CSVColumns(
            timestamp: "t_ms", timestampUnit: .ms, inputTokens: "prompt", outputTokens: "completion")
        let spec = TraceReplaySpec(path: path, format: .csv(columns), loop: true)
        let requests = try read(spec, limit: 11).1
        // Span 2 s over 4 gaps: mean gap 0.5 s, so each pass is 2.5 s long and the rate stays 2/s across the seam.
        #expect(
            requests.map(\.arrival.nanoseconds)[5...] == [
                2_500_000_000, 2_750_500_000, 2_750_500_000, 3_500_000_000, 4_500_000_000, 5_000_000_000,
            ])
        #expect(zip(requests, requests.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
    }

    struct Malformed: CustomTestStringConvertible, Sendable {
        let label: String
        let format: TraceReplaySpec.Format
        let text: String
        let line: Int
        let column: Int?
        let message: String
        var testDescription: String { label }
    }

    static let azureHeader = "TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
    static let azureRow = "2023-11-16 18:15:46.6805900,374,44\r\n"
    static let mooncakeRow = #"{"timestamp": 0, "input_length": 600, "output_length": 5, "hash_ids": [0, 1]}"# + "\n"

    static let malformed: [Malformed] = [
        Malformed(
            label: "token count not a number", format: .azure,
            text: azureHeader + azureRow + "2023-11-16 18:15:47.0000000,abc,44\r\n", line: 3, column: 29,
            message: "expected a token count (an integer in 0...1000000000) in column `ContextTokens`, found \"abc\""),
        Malformed(
            label: "negative token count", format: .azure,
            text: azureHeader + "2023-11-16 18:15:47.0000000,12,-5\r\n", line: 2, column: 32,
            message: "expected a token count (an integer in 0...1000000000) in column `GeneratedTokens`, found \"-5\""),
        Malformed(
            label: "missing column", format: .azure,
            text: azureHeader + azureRow + azureRow + "2023-11-16 18:15:47.0000000,12\r\n",
            line: 4, column: 31,
            message: "missing column `GeneratedTokens`: the row has 2 fields, expected at least 3"),
        Malformed(
            label: "impossible date", format: .azure, text: azureHeader + "2023-02-30 18:15:47.0000000,12,5\r\n",
            line: 2,
            column: 1,
            message:
                "expected a date and time like 2023-11-16 18:15:46.6805900 in column `TIMESTAMP`, found \"2023-02-30 18:15:47.0000000\""
        ),
        Malformed(
            label: "year before 1970", format: .azure, text: azureHeader + "1969-12-31 23:59:59,12,5\r\n", line: 2,
            column: 1,
            message:
                "expected a date and time like 2023-11-16 18:15:46.6805900 in column `TIMESTAMP`, found \"1969-12-31 23:59:59\""
        ),
        Malformed(
            label: "unterminated quote", format: .azure, text: azureHeader + "\"2023-11-16 18:15:47,12,5\r\n", line: 2,
            column: 1, message: "unterminated quoted field"),
        Malformed(
            label: "time going back", format: .azure,
            text: azureHeader + azureRow + "2023-11-16 18:15:46.6805000,12,5\r\n", line: 3, column: 1,
            message:
                "this row's time is 90us before the previous row's; replay needs rows in arrival order (sort the file by time)"
        ),
        Malformed(
            label: "header without a column", format: .azure, text: "TIMESTAMP,ContextTokens\r\n" + azureRow, line: 1,
            column: nil, message: "no column `GeneratedTokens` in the header (it has: TIMESTAMP, ContextTokens)"),
        Malformed(
            label: "empty csv", format: .azure, text: "", line: 1, column: nil,
            message: "expected a header row naming the columns, found an empty file"),
        Malformed(
            label: "csv decimal with exponent",
            format: .csv(.init(timestamp: "t", timestampUnit: .s, inputTokens: "i", outputTokens: "o")),
            text: "t,i,o\n0,1,1\n1e3,1,1\n", line: 3, column: 1,
            message: "expected a non-negative decimal number in column `t`, found \"1e3\""),
        Malformed(
            label: "json missing a field", format: .mooncake,
            text: mooncakeRow + #"{"timestamp": 3000, "output_length": 5}"# + "\n", line: 2, column: nil,
            message: "missing `input_length` (prompt tokens)"),
        Malformed(
            label: "json string for a count", format: .mooncake,
            text: #"{"timestamp": 0, "input_length": "600", "output_length": 5}"#, line: 1, column: 34,
            message:
                "expected `input_length` to be a token count (an integer in 0...1000000000), found \"\\\"600\\\"\""),
        Malformed(
            label: "json negative timestamp", format: .mooncake,
            text: mooncakeRow + #"{"timestamp": -3, "input_length": 6, "output_length": 5}"#, line: 2, column: 15,
            message: "expected `timestamp` to be a non-negative number of milliseconds, found \"-3\""),
        Malformed(
            label: "more hashes than blocks", format: .mooncake,
            text: #"{"timestamp": 0, "input_length": 512, "output_length": 5, "hash_ids": [0, 1]}"#, line: 1,
            column: 71,
            message:
                "`hash_ids` has 2 blocks but input_length 512 fills only 1 blocks of 512 tokens (is tokens-per-hash right?)"
        ),
        Malformed(
            label: "not json", format: .mooncake, text: mooncakeRow + "timestamp,input\n", line: 2, column: 1,
            message: "expected a JSON object `{`, found \"timestamp\""),
        Malformed(
            label: "truncated json", format: .mooncake, text: #"{"timestamp": 0, "input_length": 6"#, line: 1,
            column: 35, message: "expected `,` or `}` after a value, found the end of the line"),
    ]

    @Test(arguments: malformed)
    func malformedRowsAreLocated(_ test: Malformed) throws {
        let path = try temporaryFile(test.text, suffix: ".trace")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let expected = TraceError(path: path, line: test.line, column: test.column, message: test.message)
        #expect(throws: expected) { try TraceReplay.scan(TraceReplaySpec(path: path, format: test.format)) }
    }

    @Test func aMissingFileIsAnErrorAboutTheFile() {
        let error = TraceError(
            path: "/nonexistent/t.csv", line: 0, column: nil, message: "cannot open the trace: no such file")
        #expect(throws: error) { try TraceReplay.scan(TraceReplaySpec(path: "/nonexistent/t.csv", format: .azure)) }
        #expect(error.description == "/nonexistent/t.csv: cannot open the trace: no such file")
        #expect(TraceError(path: "a.csv", line: 3, column: 7, message: "m").description == "a.csv:3:7: m")
        #expect(TraceError(path: "a.csv", line: 3, column: nil, message: "m").description == "a.csv:3: m")
    }

    @Test func anEmptyWindowScansToNoRequestsAndReadsNothing() throws {
        let path = try tracePath("azure-conv-200.csv")
        let window = SimTime.seconds(3600)..<SimTime.seconds(3700)
        let spec = TraceReplaySpec(path: path, format: .azure, window: window, loop: true)
        let stats = try TraceReplay.scan(spec)
        #expect(stats.count == 0 && stats.meanRatePerSecond == 0)
        #expect(try TraceReader(spec: spec, stats: stats).next() == nil)
    }
}

/// The full traces bundled for the replay scenarios (scenarios/traces) scan cleanly, with the row counts their
/// SOURCE.md states.
@Suite struct BundledTraceTests {
    static let traces = Repository.root.appendingPathComponent("scenarios/traces")

    @Test func theAzureConversationTraceScans() throws {
        let path = Self.traces.appendingPathComponent("AzureLLMInferenceTrace_conv.csv").path
        let stats = try TraceReplay.scan(TraceReplaySpec(path: path, format: .azure))
        #expect(stats.count == 19_366)
        #expect(stats.lastArrival > .seconds(3_500) && stats.lastArrival < .seconds(3_600))
    }

    @Test func theMooncakeConversationTraceScans() throws {
        let path = Self.traces.appendingPathComponent("conversation_trace.jsonl").path
        let spec = TraceReplaySpec(path: path, format: .mooncake)
        let stats = try TraceReplay.scan(spec)
        #expect(stats.count == 12_031)
        let reader = try TraceReader(spec: spec, stats: stats)
        var count = 0, input = 0
        while let request = reader.next() {
            count += 1
            input += request.inputTokens
        }
        #expect(count == stats.count && input == stats.inputTokens)
    }
}

/// `spread`: Mooncake's timestamps are 3 s ticks; spread over the tick, a tick's requests arrive at distinct times
/// within it, in time order, all of them, the same for the same seed.
@Suite struct TraceSpreadTests {
    static func arrivals(spread: SimTime?, seed: UInt64, speedUp: Double? = nil) throws -> [TraceRequest] {
        let spec = TraceReplaySpec(
            path: try tracePath("mooncake-conversation-200.jsonl"), format: .mooncake, speedUp: speedUp, spread: spread)
        let stats = try TraceReplay.scan(spec)
        let reader = try TraceReader(
            spec: spec, stats: stats, spreadStream: RandomStreams(runSeed: seed).stream("traffic/t/trace-spread"))
        var requests: [TraceRequest] = []
        while let request = reader.next() { requests.append(request) }
        return requests
    }

    @Test func requestsMoveWithinTheirTickInTimeOrder() throws {
        let recorded = try Self.arrivals(spread: nil, seed: 1)
        let spread = try Self.arrivals(spread: .seconds(3), seed: 1)
        #expect(recorded.count == 200 && spread.count == 200)
        // Recorded: ticks of several requests at one time.
        #expect(Set(recorded.map(\.arrival)).count < 100)
        #expect(Set(spread.map(\.arrival)).count == 200)
        #expect(zip(spread, spread.dropFirst()).allSatisfy { $0.arrival <= $1.arrival })
        // Every request moved by less than the spread, and the multiset of requests is the trace's.
        let key = { (r: TraceRequest) in "\(r.inputTokens)/\(r.outputTokens)/\(r.prefix?.tokens ?? 0)" }
        #expect(recorded.map(key).sorted() == spread.map(key).sorted())
        let latest = recorded.last!.arrival + .seconds(3)
        #expect(spread.allSatisfy { $0.arrival >= recorded.first!.arrival && $0.arrival < latest })
        // The same seed gives the same arrivals; another seed others.
        #expect(try Self.arrivals(spread: .seconds(3), seed: 1).map(\.arrival) == spread.map(\.arrival))
        #expect(try Self.arrivals(spread: .seconds(3), seed: 2).map(\.arrival) != spread.map(\.arrival))
        // At twice the speed the moves halve with the rest of trace time.
        let fast = try Self.arrivals(spread: .seconds(3), seed: 1, speedUp: 2)
        #expect(fast.last!.arrival.nanoseconds < recorded.last!.arrival.nanoseconds / 2 + 1_500_000_000)
    }
}

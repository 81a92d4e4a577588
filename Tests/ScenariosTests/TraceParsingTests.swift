import Foundation
import TestSupport
import Testing

@testable import Scenarios

/// `trace` blocks: fields, path resolution against the scenario's directory, and located errors, including
/// errors inside the trace file itself.
@Suite struct TraceParsingTests {
    /// The directory holding `Fixtures/traces`, standing in for a scenario file's directory.
    static func base() throws -> String {
        try Support.fixture("traces").deletingLastPathComponent().path
    }

    /// The `trace` mapping of `text` (a document `trace: ...`), read as the loader would from a file in `base`.
    static func trace(_ text: String, base: String) throws(ScenarioError) -> TraceReplaySpec {
        let document = try YamlDocument.parse(text, file: "t.yaml")
        let context = ReaderContext(file: "t.yaml", renamedKeys: [:], baseDirectory: base)
        guard let root = document.root else {
            throw ScenarioError.init(kind: .invalid, file: "t.yaml", line: nil, column: nil, path: "", message: "empty")
        }
        let top = try NodeReader(node: root, path: "", context: context).mapping(keys: ["trace"])
        return try top.required("trace", expecting: "a trace").scannedTraceReplay().spec
    }

    /// The error `text` raises.
    static func error(_ text: String, base: String) -> ScenarioError? {
        do {
            let spec = try trace(text, base: base)
            Issue.record("expected an error, but the trace loaded: \(spec)")
            return nil
        } catch {
            return error
        }
    }

    @Test func anAzureTraceResolvesAgainstTheScenarioDirectory() throws {
        let base = try Self.base()
        let spec = try Self.trace(
            """
            trace:
              format: azure
              path: traces/azure-20.csv
              speed-up: 2.5
              window: {start: 1s, end: 4500ms}
              loop: true
            """, base: base)
        #expect(
            spec
                == TraceReplaySpec(
                    path: base + "/traces/azure-20.csv", format: .azure, speedUp: 2.5,
                    window: SimTime.seconds(1)..<SimTime.milliseconds(4_500), loop: true))
    }

    @Test func absolutePathsStayAndWithoutADirectoryPathsStartFromTheCurrentOne() throws {
        let base = try Self.base()
        let absolute = try Self.trace(
            "trace: {format: mooncake, path: \(base)/traces/mooncake-20.jsonl}", base: "/elsewhere")
        #expect(absolute == TraceReplaySpec(path: base + "/traces/mooncake-20.jsonl", format: .mooncake))
        // In-memory text has no directory: the path is taken as written, from the current directory.
        let error = Self.error("trace: {format: azure, path: traces/azure-20.csv}", base: "")
        #expect(error?.kind == .fileNotFound)
        #expect(error?.message == "no trace file `traces/azure-20.csv` (looked for traces/azure-20.csv)")
        #expect(ScenarioLoader.directory(of: "scenarios/replay.yaml") == "scenarios")
        #expect(ScenarioLoader.directory(of: "replay.yaml") == "")
        #expect(ScenarioLoader.directory(of: "/srv/scenarios/replay.yaml") == "/srv/scenarios")
    }

    @Test func csvColumnsTargetRateAndTokensPerHash() throws {
        let base = try Self.base()
        let csv = try Self.trace(
            """
            trace:
              format: csv
              path: traces/seconds.csv
              columns: {timestamp: ts, input-tokens: in, output-tokens: out}
              target-rate: 40/s
            """, base: base)
        let columns = TraceReplaySpec.CSVColumns(
            timestamp: "ts", timestampUnit: .s, inputTokens: "in", outputTokens: "out")
        #expect(
            csv == TraceReplaySpec(path: base + "/traces/seconds.csv", format: .csv(columns), targetRatePerSecond: 40))
        let mooncake = try Self.trace(
            "trace: {format: mooncake, path: traces/mooncake-20.jsonl, tokens-per-hash: 256}", base: base)
        #expect(mooncake.tokensPerHash == 256 && mooncake.loop == false && mooncake.window == nil)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        let label: String
        let text: String
        let expected: String
        var testDescription: String { label }
    }

    /// `BASE` in `expected` stands for the fixtures' directory.
    static let cases: [Case] = [
        Case(
            label: "unknown format", text: "trace: {format: azur, path: traces/azure-20.csv}",
            expected: "t.yaml:1:17: error: at trace.format: unknown trace format `azur`; did you mean `azure`?"),
        Case(
            label: "missing path", text: "trace: {format: azure}",
            expected:
                "t.yaml:1:8: error: at trace: missing required key `path` (the trace file, relative to the scenario's directory)"
        ),
        Case(
            label: "columns on azure",
            text: "trace: {format: azure, path: traces/azure-20.csv, columns: {timestamp: t}}",
            expected:
                "t.yaml:1:51: error: at trace.columns: `columns` applies only to csv traces; azure traces have fixed columns"
        ),
        Case(
            label: "csv without columns", text: "trace: {format: csv, path: traces/seconds.csv}",
            expected:
                "t.yaml:1:8: error: at trace: missing required key `columns` (a mapping like {timestamp: t, timestamp-unit: ms, input-tokens: prompt, output-tokens: completion})"
        ),
        Case(
            label: "unknown timestamp unit",
            text:
                "trace: {format: csv, path: traces/seconds.csv, columns: {timestamp: ts, timestamp-unit: sec, input-tokens: in, output-tokens: out}}",
            expected:
                "t.yaml:1:89: error: at trace.columns.timestamp-unit: unknown timestamp unit `sec`; expected one of: s, ms, us, ns"
        ),
        Case(
            label: "tokens-per-hash on azure",
            text: "trace: {format: azure, path: traces/azure-20.csv, tokens-per-hash: 16}",
            expected: "t.yaml:1:51: error: at trace.tokens-per-hash: `tokens-per-hash` applies only to mooncake traces"),
        Case(
            label: "speed-up and target-rate",
            text: "trace: {format: azure, path: traces/azure-20.csv, speed-up: 2, target-rate: 10/s}",
            expected: "t.yaml:1:64: error: at trace.target-rate: a trace takes `speed-up` or `target-rate`, not both"),
        Case(
            label: "negative speed-up", text: "trace: {format: azure, path: traces/azure-20.csv, speed-up: -2}",
            expected: "t.yaml:1:61: error: at trace.speed-up: expected a number > 0, found -2"),
        Case(
            label: "window ending before it starts",
            text: "trace: {format: azure, path: traces/azure-20.csv, window: {start: 5m, end: 1m}}",
            expected: "t.yaml:1:76: error: at trace.window.end: expected an end after the start (5m), found \"1m\""),
        Case(
            label: "empty window",
            text: "trace: {format: azure, path: traces/azure-20.csv, window: {start: 1h, end: 2h}}",
            expected: "t.yaml:1:59: error: at trace.window: the trace has no requests in this window"),
        Case(
            label: "missing file", text: "trace:\n  format: azure\n  path: traces/nothing.csv\n",
            expected:
                "t.yaml:3:9: error: at trace.path: no trace file `traces/nothing.csv` (looked for BASE/traces/nothing.csv)"
        ),
        Case(
            label: "malformed row", text: "trace:\n  format: azure\n  path: traces/bad-row.csv\n",
            expected:
                "t.yaml:3:9: error: at trace.path: invalid trace: BASE/traces/bad-row.csv:4:32: expected a token count (an integer in 0...1000000000) in column `GeneratedTokens`, found \"many\""
        ),
        Case(
            label: "wrong format for the file", text: "trace:\n  format: mooncake\n  path: traces/azure-20.csv\n",
            expected:
                "t.yaml:3:9: error: at trace.path: invalid trace: BASE/traces/azure-20.csv:1:1: expected a JSON object `{`, found \"TIMESTAMP\""
        ),
    ]

    @Test(arguments: cases)
    func errorsAreLocated(_ test: Case) throws {
        let base = try Self.base()
        let error = Self.error(test.text, base: base)
        #expect(error?.description == test.expected.replacingOccurrences(of: "BASE", with: base))
    }

    @Test func aMissingTraceIsAMissingFile() throws {
        let error = Self.error("trace: {format: azure, path: traces/nothing.csv}", base: try Self.base())
        #expect(error?.kind == .fileNotFound)
    }

    @Test func aTraceAtOneInstantCannotLoopOrTakeARate() throws {
        let directory = try TemporaryDirectory.make("trace")
        defer { try? FileManager.default.removeItem(at: directory) }
        try "t,i,o\n5,1,1\n5,2,2\n".write(
            to: directory.appendingPathComponent("flat.csv"), atomically: true, encoding: .utf8)
        let columns = "columns: {timestamp: t, input-tokens: i, output-tokens: o}"
        let loop = Self.error("trace: {format: csv, path: flat.csv, \(columns), loop: true}", base: directory.path)
        #expect(
            loop?.description
                == "t.yaml:1:104: error: at trace.loop: a loop needs a length: the trace's requests all arrive at one time, so it has no mean rate; give a `window`"
        )
        let rate = Self.error(
            "trace: {format: csv, path: flat.csv, \(columns), target-rate: 5/s}", base: directory.path)
        #expect(rate?.message.hasPrefix("a target rate needs a rate to scale") == true)
        // With a window, the window's length gives both.
        let windowed = try Self.trace(
            "trace: {format: csv, path: flat.csv, \(columns), loop: true, window: {end: 10s}}", base: directory.path)
        #expect(windowed.loop && windowed.window == SimTime.zero..<SimTime.seconds(10))
    }
}

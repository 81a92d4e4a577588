import Fleet
import Foundation

extension NodeReader {
    /// `trace`: a recorded trace to replay, checked by one pass over the file (see docs/traces.md), with what
    /// that pass measured, so a caller need not read the file again.
    func scannedTraceReplay() throws(ScenarioError) -> (spec: TraceReplaySpec, stats: TraceStats) {
        let fields = try mapping(
            keys: ScenarioKeys.trace, what: "a trace mapping like {format: azure, path: traces/conv.csv}")
        let formats = ["azure", "mooncake", "csv"]
        let formatWhat = "one of: \(formats.joined(separator: ", "))"
        let formatReader = try fields.required("format", expecting: formatWhat)
        let formatName = try formatReader.string(formatWhat)
        guard formats.contains(formatName) else {
            throw formatReader.error(
                "unknown trace format `\(formatName)`" + Suggestions.hint(for: formatName, among: formats))
        }
        let pathReader = try fields.required("path", expecting: "the trace file, relative to the scenario's directory")
        let written = try pathReader.string("a file path")
        guard !written.isEmpty else { throw pathReader.expected("a file path") }
        let path = resolvedPath(written)

        let format: TraceReplaySpec.Format
        switch formatName {
        case "csv":
            let columns = try fields.required(
                "columns",
                expecting:
                    "a mapping like {timestamp: t, timestamp-unit: ms, input-tokens: prompt, output-tokens: completion}"
            )
            format = .csv(try columns.traceColumns())
        default:
            if let columns = fields.keyReader("columns") {
                throw columns.error("`columns` applies only to csv traces; \(formatName) traces have fixed columns")
            }
            format = formatName == "azure" ? .azure : .mooncake
        }
        var spec = TraceReplaySpec(path: path, format: format)
        if let tokensPerHash = fields["tokens-per-hash"] {
            guard case .mooncake = format else {
                throw (fields.keyReader("tokens-per-hash") ?? tokensPerHash).error(
                    "`tokens-per-hash` applies only to mooncake traces")
            }
            spec.tokensPerHash = try tokensPerHash.integer(in: 1...1_000_000)
        }
        spec.speedUp = try fields["speed-up"]?.number(.positive)
        if let target = fields["target-rate"] {
            if fields["speed-up"] != nil {
                throw (fields.keyReader("target-rate") ?? target).error(
                    "a trace takes `speed-up` or `target-rate`, not both")
            }
            spec.targetRatePerSecond = try target.rate()
        }
        spec.window = try fields["window"]?.traceWindow()
        spec.loop = try fields["loop"]?.bool() ?? false
        spec.spread = try fields["spread"]?.duration(allowZero: false)

        // The file is read here, once, so a bad row is reported when the scenario loads, not mid-run. The run
        // (Traffic's TraceReader) opens the same path again, so the hash recorded here, like `stats`, is of the
        // bytes the run reads unless the file is edited while the scenario runs.
        _ = try pathReader.recordNamedFile(written, noun: "trace file")
        let stats: TraceStats
        do {
            stats = try TraceReplay.scan(spec)
        } catch {
            throw pathReader.error("invalid trace: \(error)")
        }
        guard stats.count > 0 else {
            if let window = fields["window"] {
                throw window.error("the trace has no requests in this window")
            }
            throw pathReader.error("the trace has no requests")
        }
        // Without a window, the rate and the loop's period come from the spread of arrival times.
        if spec.window == nil, stats.meanRatePerSecond == 0 {
            let reason = "the trace's requests all arrive at one time, so it has no mean rate"
            if let target = fields["target-rate"] {
                throw target.error("a target rate needs a rate to scale: \(reason)")
            }
            if spec.loop, let loop = fields["loop"] {
                throw loop.error("a loop needs a length: \(reason); give a `window`")
            }
        }
        return (spec, stats)
    }

    /// `columns` of a csv trace: the header names of the three columns, and the timestamp's unit.
    func traceColumns() throws(ScenarioError) -> TraceReplaySpec.CSVColumns {
        let fields = try mapping(
            keys: ScenarioKeys.traceColumns,
            what: "a mapping like {timestamp: t, timestamp-unit: ms, input-tokens: prompt, output-tokens: completion}")
        let units = TraceReplaySpec.TimestampUnit.allCases.map(\.rawValue)
        let unitWhat = "one of: \(units.joined(separator: ", "))"
        var unit = TraceReplaySpec.TimestampUnit.s
        if let unitReader = fields["timestamp-unit"] {
            let name = try unitReader.string(unitWhat)
            guard let value = TraceReplaySpec.TimestampUnit(rawValue: name) else {
                throw unitReader.error("unknown timestamp unit `\(name)`; expected \(unitWhat)")
            }
            unit = value
        }
        return TraceReplaySpec.CSVColumns(
            timestamp: try fields.required("timestamp", expecting: "a column name").string("a column name"),
            timestampUnit: unit,
            inputTokens: try fields.required("input-tokens", expecting: "a column name").string("a column name"),
            outputTokens: try fields.required("output-tokens", expecting: "a column name").string("a column name"))
    }

    /// `window`: `{start, end}`, trace-relative durations; `start` defaults to 0.
    func traceWindow() throws(ScenarioError) -> Range<SimTime> {
        let fields = try mapping(keys: ScenarioKeys.traceWindow, what: "a mapping like {start: 10m, end: 20m}")
        let start = try fields["start"]?.duration(allowZero: true) ?? .zero
        let endReader = try fields.required("end", expecting: "a duration after `start`, like 20m")
        let end = try endReader.duration(allowZero: false)
        guard end > start else {
            throw endReader.expected("an end after the start (\(fields["start"]?.scalarText ?? "0"))")
        }
        return start..<end
    }
}

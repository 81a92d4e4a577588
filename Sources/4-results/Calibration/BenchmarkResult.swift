import Foundation
public import Scenarios

/// One `vllm bench serve --save-result` JSON file: how the benchmark was driven and what it measured.
public struct BenchmarkResult: Sendable, Equatable {
    /// The measured values the calibration fits, under vLLM's JSON keys, with the summary metric each is compared to.
    public enum Metric: String, Sendable, CaseIterable {
        case medianTTFT = "median_ttft_ms"
        case medianTPOT = "median_tpot_ms"
        case medianITL = "median_itl_ms"
        case outputThroughput = "output_throughput"

        /// The simulator's summary metric for the same quantity (docs/metrics.md).
        public var summaryMetric: String {
            switch self {
            case .medianTTFT: return "ttft_ms_p50"
            case .medianTPOT: return "tpot_ms_p50"
            case .medianITL: return "itl_ms_p50"
            case .outputThroughput: return "output_tokens_per_second"
            }
        }
    }

    /// The file as the user named it.
    public var input: String
    /// `model_id`: the model the server was asked for.
    public var modelID: String
    /// `completed`: requests that finished (the simulation sends this many).
    public var completed: Int
    /// `request_rate` in requests per second; nil for `"inf"` (all at once, or as fast as the clients allow).
    public var requestRate: Double?
    /// `burstiness`: the gamma shape of the gaps between requests (1 is Poisson).
    public var burstiness: Double
    /// `max_concurrency`: the clients' cap on requests in flight; nil for none.
    public var maxConcurrency: Int?
    /// `total_input_tokens / completed` and `total_output_tokens / completed`.
    public var meanInputTokens: Double
    public var meanOutputTokens: Double
    /// The measured values, in ``Metric`` order.
    public var measured: [Double]

    public init(
        input: String, modelID: String, completed: Int, requestRate: Double?, burstiness: Double, maxConcurrency: Int?,
        meanInputTokens: Double, meanOutputTokens: Double, measured: [Double]
    ) {
        self.input = input
        self.modelID = modelID
        self.completed = completed
        self.requestRate = requestRate
        self.burstiness = burstiness
        self.maxConcurrency = maxConcurrency
        self.meanInputTokens = meanInputTokens
        self.meanOutputTokens = meanOutputTokens
        self.measured = measured
    }

    /// How the benchmark was driven, for reports: `concurrency 8` or `4 req/s`.
    public var load: String {
        if let rate = requestRate { return "\(TimingProfileFile.rounded(rate)) req/s" }
        return "concurrency \(maxConcurrency ?? completed)"
    }
}

/// Reads `vllm bench serve --save-result` files.
public enum BenchmarkResultFile {
    /// Reads `path`; errors name the file as `written`, and the key, with its line and column where it occurs once.
    public static func read(path: String, written: String) throws(ScenarioError) -> BenchmarkResult {
        let data = try InputFile.data(path: path, written: written)
        let text = String(decoding: data, as: UTF8.self)
        return try parse(data: data, text: text, file: written)
    }

    /// Parses JSON text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ScenarioError) -> BenchmarkResult {
        try parse(data: Data(text.utf8), text: text, file: file)
    }

    static func parse(data: Data, text: String, file: String) throws(ScenarioError) -> BenchmarkResult {
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw ScenarioError(
                    kind: .invalid, file: file, line: 1, column: 1, path: "",
                    message: "expected a JSON object, as `vllm bench serve --save-result` writes")
            }
            object = parsed
        } catch let error as ScenarioError {
            throw error
        } catch {
            let message = ModelConfigFile.syntaxError(file, data: data, text: text)
            let (line, column) = position(in: message, file: file)
            throw ScenarioError(
                kind: .invalid, file: file, line: line, column: column, path: "",
                message: String(message.drop { $0 != " " }.dropFirst()))
        }
        func failure(_ key: String, _ message: String) -> ScenarioError {
            let (line, column) = position(in: ModelConfigFile.located(file, text: text, key: key), file: file)
            return ScenarioError(kind: .invalid, file: file, line: line, column: column, path: key, message: message)
        }
        let saveResult = " (`vllm bench serve --save-result` writes it)"
        func number(_ key: String, _ what: String = "a number") throws(ScenarioError) -> Double {
            guard let value = object[key] else { throw failure(key, "missing `\(key)`, \(what)\(saveResult)") }
            guard let number = value as? NSNumber, number.doubleValue.isFinite else {
                throw failure(key, "expected \(what), found \(describe(value))")
            }
            return number.doubleValue
        }
        guard let modelID = object["model_id"] as? String else {
            throw failure(
                "model_id",
                object["model_id"] == nil
                    ? "missing `model_id`, the model served\(saveResult)"
                    : "expected the model's name, found \(describe(object["model_id"]!))")
        }
        let completed = try number("completed", "the count of completed requests")
        guard completed >= 1, completed == completed.rounded() else {
            throw failure("completed", "expected a whole number of requests >= 1, found \(completed)")
        }
        let rate: Double?
        switch object["request_rate"] {
        case nil: throw failure("request_rate", "missing `request_rate`, a number or \"inf\"\(saveResult)")
        case let text as String where text == "inf": rate = nil
        case let value:
            guard let number = value as? NSNumber, number.doubleValue > 0,
                number.doubleValue.isFinite
            else { throw failure("request_rate", "expected a rate > 0 or \"inf\", found \(describe(value!))") }
            rate = number.doubleValue
        }
        let burstiness = object["burstiness"] == nil ? 1 : try number("burstiness", "the gamma shape, > 0")
        guard burstiness > 0 else { throw failure("burstiness", "expected a gamma shape > 0, found \(burstiness)") }
        var concurrency: Int?
        if let value = object["max_concurrency"], !(value is NSNull) {
            let cap = try number("max_concurrency", "a count of clients, or null")
            guard cap >= 1, cap == cap.rounded() else {
                throw failure("max_concurrency", "expected a whole number of clients >= 1, found \(cap)")
            }
            concurrency = Int(cap)
        }
        if rate != nil, concurrency != nil {
            throw failure(
                "max_concurrency",
                "a request rate with a concurrency cap is not simulated yet (a workload has `rate` or `concurrency`); "
                    + "calibrate from runs with one of them")
        }
        let input = try number("total_input_tokens", "the prompt tokens of all requests")
        let output = try number("total_output_tokens", "the generated tokens of all requests")
        guard input >= completed, output >= completed else {
            throw failure(
                input < completed ? "total_input_tokens" : "total_output_tokens",
                "expected at least one token per completed request")
        }
        var measured: [Double] = []
        for metric in BenchmarkResult.Metric.allCases {
            let value = try number(metric.rawValue, "a measured value")
            guard value > 0 else { throw failure(metric.rawValue, "expected a measured value > 0, found \(value)") }
            measured.append(value)
        }
        return BenchmarkResult(
            input: file, modelID: modelID, completed: Int(completed), requestRate: rate, burstiness: burstiness,
            maxConcurrency: concurrency, meanInputTokens: input / completed, meanOutputTokens: output / completed,
            measured: measured)
    }

    /// The line and column of a `file:line:column: ` prefix, if it has them.
    static func position(in located: String, file: String) -> (Int?, Int?) {
        let parts = located.dropFirst(file.count).split(separator: ":", maxSplits: 3)
        guard parts.count >= 2, let line = Int(parts[0]), let column = Int(parts[1]) else { return (nil, nil) }
        return (line, column)
    }

    static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let text as String: return "\"\(text)\""
        case is [Any]: return "an array"
        case is [String: Any]: return "an object"
        default: return "\(value)"
        }
    }
}

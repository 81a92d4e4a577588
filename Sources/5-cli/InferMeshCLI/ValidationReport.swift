import Analysis
import Fleet
public import Foundation
public import Scenarios

/// docs/validation.md, computed: every published figure of a cases file (scenarios/validation/cases.yaml) against
/// what each timing model predicts for it, with its error and the scenario and command that produced it.
///
/// The text is a function of the cases, the scenarios and the code alone: runs are deterministic, rows keep the
/// file's order whatever order the runs finish in, and nothing of the machine or the clock is printed.
public struct ValidationReport: Sendable {
    /// The timing models compared, by the names `timing:` and `infermesh timing` give them, in column order.
    public static let timings = ["roofline", "fitted"]

    /// What one timing model predicts for a figure.
    public enum Prediction: Sendable, Equatable {
        /// The predicted value, in the figure's unit.
        case value(Double)
        /// The model has no answer for the setup, and why (`no fitted profile for …`).
        case unavailable(String)
    }

    /// One published figure with its predictions.
    public struct Row: Sendable {
        /// Where its case is in the cases file.
        public var section: Int
        public var caseIndex: Int
        public var figure: ValidationCases.Figure
        /// One per timing model, in ``timings`` order; empty for a figure that is listed but not compared.
        public var predictions: [Prediction]
    }

    /// A report that could not be made: a case that does not fit its scenario, or a metric a run does not have.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The cases, as read.
    public let cases: ValidationCases
    /// The cases file's path from the repository root, as the report names it.
    public let casesPath: String
    /// Whether only the quick cases were computed.
    public let quick: Bool
    /// The rows, in the cases file's order (only the quick cases' in a quick report).
    public let rows: [Row]
    /// Each computed case's fitted profile, or why it has none, by section then case.
    let fittedProfiles: [[String?]]

    // MARK: - Computing

    /// Reads the cases at `casesPath` (from `root`, the repository) and computes their rows, only those of quick
    /// cases when `quick`, running the simulations on up to `jobs` threads (the text does not depend on it).
    public static func compute(
        root: URL, casesPath: String = "scenarios/validation/cases.yaml", quick: Bool = false, jobs: Int = 1
    ) throws -> ValidationReport {
        let cases = try ValidationCases.load(path: root.appendingPathComponent(casesPath).path)
        let folder = (casesPath as NSString).deletingLastPathComponent
        let selected = { (entry: ValidationCases.Case) in entry.quick || !quick }
        // Each selected scenario once per timing model, in file order.
        var runs: [Run] = []
        for section in cases.sections {
            for entry in section.cases where selected(entry) {
                guard case .scenario(let file) = entry.subject else { continue }
                let path = join(folder, file)
                for timing in timings where !runs.contains(Run(path: path, timing: timing)) {
                    runs.append(Run(path: path, timing: timing))
                }
            }
        }
        let planned = runs
        let outcomes = try perform(planned.count, jobs: jobs) { try planned[$0].execute(root: root) }

        var rows: [Row] = []
        var fittedProfiles: [[String?]] = []
        for (sectionIndex, section) in cases.sections.enumerated() {
            var profiles: [String?] = []
            for (caseIndex, entry) in section.cases.enumerated() {
                guard selected(entry) else {
                    profiles.append(nil)
                    continue
                }
                // What each timing model predicts for a metric of this case.
                let predict: (String) throws -> [Prediction]
                switch entry.subject {
                case .scenario(let file):
                    let path = join(folder, file)
                    let results = timings.map { timing in
                        outcomes[runs.firstIndex(of: Run(path: path, timing: timing))!]
                    }
                    profiles.append(results[0].fittedProfile)
                    predict = { metric in
                        guard SummaryMetrics.names.contains(metric) else {
                            throw Failure(
                                description: "\(casesPath): \(entry.setup): `\(metric)` is not a summary metric "
                                    + "(docs/metrics.md)")
                        }
                        return try results.map { try $0.prediction(metric) }
                    }
                case .step(let step):
                    let deployment = try deployment(step, casesPath: casesPath)
                    let models = TimingCommand.timingModels(deployment)
                    let profile = fittedProfile(deployment)
                    profiles.append(profile)
                    let shape = timingStep(step).shape
                    let predictions = timings.map { timing -> Prediction in
                        guard let model = models.first(where: { $0.name == timing })?.model else {
                            return .unavailable(profile)
                        }
                        return .value(model.stepDuration(shape).milliseconds)
                    }
                    predict = { _ in predictions }
                }
                for figure in entry.figures {
                    rows.append(
                        Row(
                            section: sectionIndex, caseIndex: caseIndex, figure: figure,
                            predictions: figure.notCompared == nil ? try predict(figure.metric) : []))
                }
            }
            fittedProfiles.append(profiles)
        }
        return ValidationReport(
            cases: cases, casesPath: casesPath, quick: quick, rows: rows, fittedProfiles: fittedProfiles)
    }

    /// `folder/file`, without `./`.
    static func join(_ folder: String, _ file: String) -> String {
        folder.isEmpty ? file : (folder as NSString).appendingPathComponent(file)
    }

    /// The setup of a step case.
    static func deployment(_ step: ValidationCases.Step, casesPath: String) throws -> ModelDeployment {
        guard let gpu = GPUSpec.named(step.hardware), let model = LLMSpec.named(step.model) else {
            throw Failure(description: "\(casesPath): unknown hardware or model in a step")
        }
        return ModelDeployment(gpu: gpu, model: model, tensorParallelSize: step.tensorParallelSize)
    }

    /// A step case as `infermesh timing` takes it.
    static func timingStep(_ step: ValidationCases.Step) -> TimingCommand.Step {
        step.kind == "prefill"
            ? .prefill(tokens: step.tokens, context: step.context) : .decode(batch: step.batch, context: step.context)
    }

    /// The fitted profile a setup gets (`measured` or `derived from …`), or why it has none.
    static func fittedProfile(_ deployment: ModelDeployment) -> String {
        guard let profile = FittedProfileTiming.profile(for: deployment) else {
            return "no fitted profile for \(FittedProfileTiming.whyNoProfile(for: deployment) ?? deployment.label)"
        }
        switch profile.provenance {
        case .measured: return "\(deployment.label): fitted profile measured"
        case .derived(let source, let scale):
            return "\(deployment.label): fitted profile derived from \(source)'s (× \(scale))"
        }
    }

    /// One simulation: a scenario with one timing model.
    struct Run: Equatable, Sendable {
        /// The scenario's path from the repository root.
        var path: String
        var timing: String

        /// `--set` for this run's timing model.
        var setting: String { "pools[0].gpu.timing=\(timing)" }

        /// Runs the scenario as `infermesh run PATH --set SETTING` does (its first policy, its seed), without
        /// storing it; or says why this timing model has no answer for its setup.
        func execute(root: URL) throws -> Outcome {
            let file = root.appendingPathComponent(path).path
            func load(_ setting: String) throws -> Scenario {
                try ScenarioLoader.load(path: file, overrides: [try ScenarioOverride.parse(setting: setting)])
            }
            // Loaded with the roofline first, whose setup every GPU pool has, to find the setup's fitted profile.
            let roofline = try load(Run(path: path, timing: "roofline").setting)
            guard roofline.fleet.pools.count == 1, roofline.policies.count == 1, roofline.replications == 1,
                case .gpu(let gpu) = roofline.fleet.pools[0].replica, case .roofline(let deployment) = gpu.timing
            else {
                throw Failure(
                    description: "\(path): a validation scenario has one pool, of GPU replicas, one policy and one "
                        + "replication")
            }
            let profile = ValidationReport.fittedProfile(deployment)
            if timing == "fitted" && FittedProfileTiming.profile(for: deployment) == nil {
                return Outcome(run: self, summary: nil, fittedProfile: profile)
            }
            let scenario = timing == "roofline" ? roofline : try load(setting)
            let accumulator = SummaryAccumulator(spec: scenario.fleet)
            let output = try FleetRun.execute(
                scenario.fleet, policy: scenario.policies[0], seed: scenario.seed, sinks: [accumulator],
                keepRequests: false)
            return Outcome(run: self, summary: accumulator.summary(of: output), fittedProfile: profile)
        }
    }

    /// What a run gave.
    struct Outcome: Sendable {
        var run: Run
        /// Nil when the timing model has no answer for the setup.
        var summary: RunSummary?
        /// The setup's fitted profile, or why it has none.
        var fittedProfile: String

        func prediction(_ metric: String) throws -> Prediction {
            guard let summary else { return .unavailable(fittedProfile) }
            guard let value = summary[metric], value.isFinite else {
                throw Failure(description: "\(run.path) with \(run.setting): no value of `\(metric)`")
            }
            return .value(value)
        }
    }

    /// `body` for each index below `count` on up to `jobs` threads, the results in index order; the first
    /// failure, in index order, is rethrown.
    static func perform<T: Sendable>(
        _ count: Int, jobs: Int, _ body: @escaping @Sendable (Int) throws -> T
    ) throws -> [T] {
        let results = ResultSlots<T>(count: count)
        DispatchQueue.concurrentPerform(iterations: max(1, min(jobs, count))) { _ in
            while let index = results.claim() { results.set(index, Result { try body(index) }) }
        }
        return try results.all().map { try $0.get() }
    }

    // MARK: - Rendering

    /// The whole of docs/validation.md.
    public func markdown() -> String {
        let published = Self.join((casesPath as NSString).deletingLastPathComponent, cases.published).standardizedPath
        var text = """
            # Validation against published serving numbers

            <!-- Generated by `make validate` (infermesh validation-report) from \(casesPath): do not edit by hand. -->

            Every measurement in the team's published.md that a scenario can express, simulated with each timing model
            of [calibration.md](calibration.md) (the roofline and the fitted profiles), and the error of each
            prediction: (predicted − published) / published. Nothing in either model was tuned toward these figures:
            the errors are as they came out. The figures are typed once, as their sources printed them, in
            [`\(casesPath)`](../\(casesPath)),
            and a test checks that each is in the copy of published.md that carries their sources,
            [`\(published)`](../\(published)).
            Each row names the scenario (or the engine step) and the command that produced it; each scenario's comment
            says what of the published setup it matches and what it does not.

            ```sh
            make validate          # a release build, then: infermesh validation-report --out docs/validation.md
            make validate-check    # the same, writing nothing: fails if this file is not what it would write
            ```

            `swift test` recomputes the quick rows (the engine step and the runs marked `quick: true` in the cases
            file) and checks that this file has exactly those (`ValidationReportTests`); `make validate-check` checks
            the whole file.


            """
        text += summary()
        for (index, section) in cases.sections.enumerated() {
            text += "\n## \(section.title)\n\n"
            text += "Published in published.md under \"\(section.publishedIn)\", from \(section.source)."
            if let about = section.about { text += " " + about }
            text += "\n\n" + Self.header
            for row in rows where row.section == index { text += line(row) + "\n" }
            let notes = section.cases.indices.compactMap { caseIndex -> String? in
                guard let note = section.cases[caseIndex].note else { return nil }
                return "- \(section.cases[caseIndex].setup): \(note)"
            }
            let profiles = (fittedProfiles[index].compactMap { $0 }).reduce(into: [String]()) { list, profile in
                if !list.contains(profile) { list.append(profile) }
            }
            if !notes.isEmpty || !profiles.isEmpty { text += "\n" }
            for note in notes { text += note + "\n" }
            for profile in profiles { text += "- \(profile).\n" }
        }
        if !cases.notCompared.isEmpty {
            text += "\n## Not compared\n\n"
            for omission in cases.notCompared { text += "- **\(omission.what)**: \(omission.why)\n" }
        }
        return text
    }

    static let header = """
        | setup | published | metric | roofline | error | fitted | error | produced by |
        | --- | --- | --- | ---: | ---: | ---: | ---: | --- |

        """

    /// The summary: per timing model and per metric, how far the predictions are from the published figures.
    func summary() -> String {
        let compared = rows.filter { !$0.predictions.isEmpty }
        var text = "## Summary\n\n"
        text += "| timing model | figures compared | median \\|error\\| | within 10% | within 25% | largest error |\n"
        text += "| --- | ---: | ---: | ---: | ---: | --- |\n"
        for (index, timing) in Self.timings.enumerated() {
            let errors = compared.compactMap { row in error(row, index).map { (row, $0) } }
            guard let largest = errors.max(by: { abs($0.1) < abs($1.1) }) else {
                text += "| \(timing) | 0 | – | – | – | – |\n"
                continue
            }
            let magnitudes = errors.map { abs($0.1) }
            text += "| \(timing) | \(errors.count) | \(Self.percent(Self.median(magnitudes), signed: false)) | "
            text += "\(magnitudes.filter { $0 <= 0.1 }.count) | \(magnitudes.filter { $0 <= 0.25 }.count) | "
            text += "\(Self.percent(largest.1)): \(describe(largest.0)) |\n"
        }
        text += "\nBy metric, the median |error| (and how many figures):\n\n"
        text += "| metric | " + Self.timings.joined(separator: " | ") + " |\n"
        text += "| --- |" + String(repeating: " ---: |", count: Self.timings.count) + "\n"
        var metrics: [String] = []
        for row in compared where !metrics.contains(row.figure.metric) { metrics.append(row.figure.metric) }
        for metric in metrics {
            text += "| \(Self.label(metric)) |"
            for index in Self.timings.indices {
                let magnitudes = compared.filter { $0.figure.metric == metric }.compactMap { error($0, index) }
                    .map(abs)
                text +=
                    magnitudes.isEmpty
                    ? " – |" : " \(Self.percent(Self.median(magnitudes), signed: false)) (\(magnitudes.count)) |"
            }
            text += "\n"
        }
        return text
    }

    /// The relative error of a row's prediction by timing model `index`, if it has one.
    func error(_ row: Row, _ index: Int) -> Double? {
        guard row.predictions.indices.contains(index), case .value(let value) = row.predictions[index] else {
            return nil
        }
        return (value - row.figure.value) / row.figure.value
    }

    /// A row in words, for the summary: engine, metric and setup.
    func describe(_ row: Row) -> String {
        let entry = cases.sections[row.section].cases[row.caseIndex]
        return "\(row.figure.engine) \(Self.describe(metric: row.figure.metric).name), \(entry.setup)"
    }

    /// The table line of a row.
    public func line(_ row: Row) -> String {
        let entry = cases.sections[row.section].cases[row.caseIndex]
        var cells = [entry.setup, "\(row.figure.engine): \(row.figure.published)", Self.label(row.figure.metric)]
        let decimals = max(2, row.figure.published.split(separator: ".").dropFirst().first?.count ?? 0)
        for index in Self.timings.indices {
            switch row.predictions.indices.contains(index) ? row.predictions[index] : nil {
            case .value(let value)?:
                cells += [String(format: "%.\(decimals)f", value), Self.percent(error(row, index)!)]
            case .unavailable?, nil: cells += ["–", "–"]
            }
        }
        let folder = (casesPath as NSString).deletingLastPathComponent
        if let why = row.figure.notCompared {
            cells.append("not compared: \(why)")
        } else {
            switch entry.subject {
            case .scenario(let file):
                let path = Self.join(folder, file)
                var command = "`infermesh run \(path) --set '\(Run(path: path, timing: "roofline").setting)'`"
                if case .value = row.predictions[1] { command += " (and `=fitted`)" }
                cells.append("\(command) → `\(row.figure.metric)`")
            case .step(let step):
                let timingStep = Self.timingStep(step)
                var command = "infermesh timing \(step.hardware) \(step.model)"
                if step.tensorParallelSize > 1 { command += " --tensor-parallel-size \(step.tensorParallelSize)" }
                command += " --\(step.kind) \(timingStep.argument) --format json"
                let keys = Self.timings.indices.filter {
                    if case .value = row.predictions[$0] { true } else { false }
                }
                cells.append("`\(command)` → " + keys.map { "`\(Self.timings[$0])`" }.joined(separator: ", "))
            }
        }
        return "| " + cells.joined(separator: " | ") + " |"
    }

    /// The first three cells of a row's line, which name it: setup, published figure, metric.
    func key(_ row: Row) -> String {
        line(row).components(separatedBy: " | ").prefix(3).joined(separator: " | ") + " | "
    }

    /// What is wrong with `committed` as far as this report's rows go: each row's line must be in it, exactly
    /// once, and no other line may start with the row's key. Empty when `committed` has every row as computed.
    public func mismatches(in committed: String) -> [String] {
        let lines = committed.components(separatedBy: "\n")
        return rows.compactMap { row in
            let expected = line(row)
            let found = lines.filter { $0.hasPrefix(key(row)) }
            if found == [expected] { return nil }
            if found.isEmpty { return "missing row: \(expected)" }
            return "row \(key(row))… reads\n  \(found.joined(separator: "\n  "))\nbut is now\n  \(expected)"
        }
    }

    /// A metric in words, such as `median TTFT` for `ttft_ms_p50`, and its unit.
    static func describe(metric: String) -> (name: String, unit: String?) {
        switch metric {
        case ValidationCases.stepMetric: return ("step time", "ms")
        case "output_tokens_per_second": return ("output tokens/s", nil)
        case "throughput_rps": return ("requests/s", nil)
        default: break
        }
        let parts = metric.components(separatedBy: "_ms_")
        guard parts.count == 2 else { return ("`\(metric)`", nil) }
        let statistic = ["p50": "median", "mean": "mean", "max": "max"][parts[1]] ?? parts[1]
        let name = ["e2e": "E2E", "ttft": "TTFT", "tpot": "TPOT", "itl": "ITL"][parts[0]] ?? parts[0]
        return ("\(statistic) \(name)", "ms")
    }

    /// A metric's cell in a table: `median TTFT (ms)`.
    static func label(_ metric: String) -> String {
        let described = describe(metric: metric)
        return described.name + (described.unit.map { " (\($0))" } ?? "")
    }

    /// A relative error as a percentage with one decimal: `+12.3%`, `−4.5%` (a true minus), `0.0%`.
    static func percent(_ fraction: Double, signed: Bool = true) -> String {
        let text = String(format: "%.1f%%", abs(fraction) * 100)
        guard signed, text != "0.0%" else { return text }
        return (fraction < 0 ? "−" : "+") + text
    }

    /// The median of `values` (the mean of the middle two for an even count).
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}

extension String {
    /// The path with `..` and `.` components resolved, as written (not against the file system).
    fileprivate var standardizedPath: String {
        var parts: [Substring] = []
        for part in split(separator: "/") {
            if part == ".." && !parts.isEmpty && parts.last != ".." {
                parts.removeLast()
            } else if part != "." {
                parts.append(part)
            }
        }
        return parts.joined(separator: "/")
    }
}

/// Hands out indexes to worker threads and collects their results by index.
final class ResultSlots<T: Sendable>: @unchecked Sendable {
    // @unchecked: every access is under `lock`.
    private let lock = NSLock()
    private var next = 0
    private var results: [Result<T, any Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func claim() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func set(_ index: Int, _ result: Result<T, any Error>) {
        lock.lock()
        results[index] = result
        lock.unlock()
    }

    func all() -> [Result<T, any Error>] {
        lock.lock()
        defer { lock.unlock() }
        return results.map { $0! }
    }
}

import Analysis
import ArgumentParser
import Foundation
import ResultsStore
import Scenarios

/// `infermesh sweep SWEEP.yaml`: run every point of a parameter grid (or a shard of it), store each run, print a
/// table; with `--plan-slo`, bisect each point's replica count for the fewest replicas that meet the targets.
struct SweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Run a scenario over a grid of parameters (see docs/sweeps.md).")

    @Argument(help: "The sweep file (YAML): a base scenario and a grid.") var sweep: String
    @Option(help: "The results database.") var db: String = defaultDatabasePath
    @Option(help: "Runs to simulate at once (results do not depend on this).") var jobs: Int = 1
    @Option(
        help: ArgumentHelp(
            "Run only the points with index % N == I (I is 0-based).",
            discussion: "I/N, or N alone with I from $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).",
            valueName: "I/N"))
    var shard: String?
    @Flag(name: .customLong("plan-slo"), help: "Find the fewest replicas meeting the sweep file's `plan` targets.")
    var planSLO = false
    @Flag(help: "No progress line on stderr.") var quiet = false

    func validate() throws {
        if !(1...256).contains(jobs) { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
        if let shard {
            if planSLO { throw ValidationError("--plan-slo runs every point; it does not take --shard") }
            _ = try Self.parseShard(shard, environment: [:], requireIndex: false)
        }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// A shard: this process runs the points with `index % count == index`.
    struct Shard: Equatable {
        var index: Int
        var count: Int
    }

    /// `I/N`, or `N` with `I` from `JOB_COMPLETION_INDEX`.
    static func parseShard(_ text: String, environment: [String: String], requireIndex: Bool = true) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        let countText = parts.count == 2 ? parts[1] : parts[0]
        guard parts.count <= 2, let count = Int(countText), count >= 1 else {
            throw ValidationError("--shard expects I/N (0 <= I < N) or N, got '\(text)'")
        }
        let indexText: Substring?
        if parts.count == 2 {
            indexText = parts[0]
        } else {
            indexText = environment["JOB_COMPLETION_INDEX"].map { Substring($0) }
        }
        guard let indexText else {
            if !requireIndex { return Shard(index: 0, count: count) }
            throw ValidationError("--shard \(text) needs the shard index from $JOB_COMPLETION_INDEX, which is not set")
        }
        guard let index = Int(indexText), (0..<count).contains(index) else {
            throw ValidationError("the shard index must be in 0..<\(count), got '\(indexText)'")
        }
        return Shard(index: index, count: count)
    }

    /// Runs, stores and reports; returns the exit status.
    func perform(io: CommandIO, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        let loaded: Sweep
        do {
            loaded = try Sweep.load(path: sweep)
        } catch {
            io.err("\(error)\n")
            return error.exitStatus
        }
        // Any registered metric, fleet-wide or per workload or cluster: a case may turn on what the base lacks (a
        // point without the metric shows `-`).
        let knownMetrics = SummaryMetrics.names
        if let unknown = loaded.metrics.first(where: { name in
            let parts = name.split(separator: ".", maxSplits: 2)
            let bare = parts.count == 3 && ["workload", "cluster"].contains(parts[0]) ? String(parts[2]) : name
            return !knownMetrics.contains(bare) && !knownMetrics.contains("cluster.<name>.\(bare)")
        }) {
            let hint = Suggestions.hint(for: unknown, among: knownMetrics)
            io.err(
                "\(sweep): error: at metrics: unknown summary metric `\(unknown)`"
                    + (hint.hasPrefix("; did you mean") ? hint : "")
                    + "; see docs/metrics.md or `infermesh list metrics`\n")
            return ExitStatus.badInput
        }
        var shardFilter = Shard(index: 0, count: 1)
        if let shard {
            do {
                shardFilter = try Self.parseShard(shard, environment: environment)
            } catch {
                io.err("Error: \(error)\n")
                return ExitCode.validationFailure.rawValue
            }
        }
        if planSLO && loaded.plan == nil {
            io.err("\(sweep): error: --plan-slo needs a `plan` in the sweep file (see docs/sweeps.md)\n")
            return ExitStatus.badInput
        }
        let store: ResultsStore
        do {
            store = try ResultsStore(path: db)
        } catch {
            io.err("error: cannot open results database \(db): \(error)\n")
            return ExitStatus.badInput
        }
        // A capacity plan's run count depends on its bisection: unknown up front.
        let total = planSLO ? 0 : (0..<loaded.pointCount).filter { $0 % shardFilter.count == shardFilter.index }.count
        let progress = (io.errIsTerminal && !quiet) ? ProgressLine(io: io, totalRuns: total) : nil
        let report = progress.map { line in
            { (label: String, fraction: Double) in line.update(label: label, fraction: fraction) }
        }
        do {
            if planSLO {
                let planner = CapacityPlanner(sweep: loaded, store: store, jobs: jobs, progress: report)
                let answers = try planner.solve()
                progress?.clear()
                io.out(planner.table(answers) + "stored \(planner.runCount(answers)) run(s) in \(db)\n")
            } else {
                let indexes = (0..<loaded.pointCount).filter { $0 % shardFilter.count == shardFilter.index }
                let points = try indexes.map { index throws(ScenarioError) in try loaded.point(index) }
                let runs = try ExperimentRunner.runAll(
                    points.map(Self.batchRun), store: store, jobs: jobs, progress: report)
                progress?.clear()
                io.out(Self.table(sweep: loaded, points: points, runs: runs, shard: shard.map { _ in shardFilter }))
                let ids = runs.map(\.runID)
                let range = ids.isEmpty ? "" : " (run ids \(ids.min()!)–\(ids.max()!))"
                io.out("stored \(runs.count) run(s) in \(db)\(range)\n")
            }
            return ExitStatus.ok
        } catch let error as ScenarioError {
            progress?.clear()
            io.err("\(error)\n")
            return error.exitStatus
        } catch {
            progress?.clear()
            io.err("error: sweep failed (runs stored as failed in \(db)): \(error)\n")
            return ExitStatus.internalError
        }
    }

    /// The run of one point.
    static func batchRun(_ point: SweepPoint) -> ExperimentRunner.BatchRun {
        ExperimentRunner.BatchRun(
            scenario: point.scenario,
            run: .init(policy: point.policy, replication: point.replication, seed: point.seed), replications: 1)
    }

    /// The metrics the tables show, with their labels and digits.
    static let metrics: [(label: String, metric: String, digits: Int)] = [
        ("ttft p99 (ms)", "ttft_ms_p99", 1), ("e2e p99 (ms)", "e2e_ms_p99", 1), ("SLO attainment", "slo_attainment", 4),
    ]

    /// A benchmark's (a scenario that ends when its requests are done): what serving benchmarks print per point.
    static let benchmarkMetrics: [(label: String, metric: String, digits: Int)] = [
        ("req/s", "throughput_rps", 2), ("output tok/s", "output_tokens_per_second", 0),
        ("ttft p50 (ms)", "ttft_ms_p50", 1), ("ttft p99 (ms)", "ttft_ms_p99", 1), ("tpot p50 (ms)", "tpot_ms_p50", 2),
        ("itl p50 (ms)", "itl_ms_p50", 2), ("itl p99 (ms)", "itl_ms_p99", 2), ("e2e p50 (ms)", "e2e_ms_p50", 1),
    ]

    /// The metrics a sweep shows: its own `metrics`, or the defaults for its base scenario.
    static func metrics(for sweep: Sweep) -> [(label: String, metric: String, digits: Int)] {
        guard sweep.metrics.isEmpty else {
            return sweep.metrics.map { name in
                if let known = (metrics + benchmarkMetrics).first(where: { $0.metric == name }) { return known }
                if let row = (ComparisonReport.rows + ComparisonReport.benchmarkRows).first(where: { $0.metric == name }
                ) {
                    return (row.label, name, row.digits)
                }
                return (label(name), name, name.contains("_ms_") ? 1 : 3)
            }
        }
        return sweep.base.fleet.endsWhenDone ? benchmarkMetrics : metrics
    }

    /// A column label from a metric's name: `tpot_ms_p99` → `tpot p99 (ms)`, `goodput_rps` → `goodput (req/s)`.
    static func label(_ name: String) -> String {
        let units = [("_ms", "ms"), ("_rps", "req/s"), ("_gb", "GB"), ("_s", "s")]
        for (marker, unit) in units {
            if name.hasSuffix(marker) {
                return "\(name.dropLast(marker.count).replacingOccurrences(of: "_", with: " ")) (\(unit))"
            }
            if let range = name.range(of: marker + "_") {
                let stem = name[..<range.lowerBound].replacingOccurrences(of: "_", with: " ")
                return "\(stem) \(name[range.upperBound...].replacingOccurrences(of: "_", with: " ")) (\(unit))"
            }
        }
        return name.replacingOccurrences(of: "_", with: " ")
    }

    /// One row per point: its index, parameters, key metrics, run id and digest.
    static func table(sweep: Sweep, points: [SweepPoint], runs: [CompletedRun], shard: Shard?) -> String {
        let shardText = shard.map { " · shard \($0.index)/\($0.count)" } ?? ""
        let metrics = metrics(for: sweep)
        var grid = [["point"] + sweep.dimensions.map(\.key) + metrics.map(\.label) + ["run id", "digest"]]
        for (point, run) in zip(points, runs) {
            grid.append(
                [String(point.index)] + point.parameters.map(\.value)
                    + metrics.map { ComparisonReport.format(run.summary[$0.metric] ?? .nan, digits: $0.digits) }
                    + [String(run.runID), run.digest])
        }
        return "sweep \(sweep.file) · scenario \(sweep.base.name) · \(points.count) of \(sweep.pointCount) point(s)"
            + "\(shardText)\n" + render(grid)
    }

    /// Left-aligned text columns, right-aligned numbers.
    static func render(_ grid: [[String]]) -> String {
        let widths = (0..<grid[0].count).map { column in grid.map { $0[column].count }.max() ?? 0 }
        return grid.map { row in
            row.enumerated().map { column, text in
                let pad = String(repeating: " ", count: widths[column] - text.count)
                return Double(text) != nil || text == "-" ? pad + text : text + pad
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }.joined(separator: "\n") + "\n"
    }
}

/// The `--plan-slo` search: for every grid point but the seed, the fewest replicas whose runs (one per seed)
/// all meet the plan's targets, assuming that meeting them is monotone in the replica count.
///
/// Bisection over `[min, max]`: first `max` (if it fails, there is no answer in range), then the midpoint of the
/// interval still open, so each point takes at most `1 + ceil(log2(max - min + 1))` probes. All points advance in
/// lock step, each step one batch in point order, so run ids and results do not depend on `--jobs`.
struct CapacityPlanner {
    let sweep: Sweep
    let store: ResultsStore
    let jobs: Int
    let progress: ((String, Double) -> Void)?

    /// A point of the grid without its seed, with the bisection's state and its probes.
    struct Search {
        var coordinates: [Int]
        var low: Int
        var high: Int
        /// Whether `high` is known to meet the targets (false until `max` was probed and met them).
        var highMeets = false
        var done = false
        var probes: [(replicas: Int, runs: [CompletedRun], meets: Bool)] = []
        var answer: Int? { highMeets ? high : nil }
    }

    var plan: Sweep.Plan { sweep.plan! }

    /// The points to search: the grid's coordinates with the seed dimension left out, in grid order.
    func searches() -> [Search] {
        let seedDimension = sweep.seedDimension
        var seen: [[Int]] = []
        for index in 0..<sweep.pointCount {
            var coordinates = sweep.coordinates(of: index)
            coordinates[seedDimension] = 0
            if seen.last != coordinates && !seen.contains(coordinates) { seen.append(coordinates) }
        }
        return seen.map { Search(coordinates: $0, low: plan.minimum, high: plan.maximum) }
    }

    /// Runs the searches to the end.
    func solve() throws -> [Search] {
        var searches = self.searches()
        var first = true
        while searches.contains(where: { !$0.done }) {
            let active = searches.indices.filter { !searches[$0].done }
            let probes = active.map { index in
                first ? plan.maximum : (searches[index].low + searches[index].high) / 2
            }
            let seeds = sweep.dimensions[sweep.seedDimension].values.indices
            var points: [SweepPoint] = []
            for (index, replicas) in zip(active, probes) {
                for seed in seeds {
                    var coordinates = searches[index].coordinates
                    coordinates[sweep.seedDimension] = seed
                    points.append(try sweep.point(coordinates: coordinates, index: index, replicas: replicas))
                }
            }
            let runs = try ExperimentRunner.runAll(
                points.map(SweepCommand.batchRun), store: store, jobs: jobs, progress: progress)
            if first, let missing = plan.targets.first(where: { runs.first?.summary[$0.metric] == nil }) {
                throw ValidationError(
                    "the plan's target `\(missing.metric)` is not a summary metric; known: "
                        + (runs.first?.summary.metrics.map(\.name).joined(separator: ", ") ?? ""))
            }
            for (offset, index) in active.enumerated() {
                let ownRuns = Array(runs[(offset * seeds.count)..<((offset + 1) * seeds.count)])
                let meets = ownRuns.allSatisfy { run in plan.targets.allSatisfy { $0.isMet(by: run.summary[$0.metric]) }
                }
                searches[index].probes.append((probes[offset], ownRuns, meets))
                if first {
                    searches[index].highMeets = meets
                    searches[index].done = !meets || plan.minimum == plan.maximum
                } else {
                    if meets {
                        searches[index].high = probes[offset]
                    } else {
                        searches[index].low = probes[offset] + 1
                    }
                    searches[index].done = searches[index].low >= searches[index].high
                }
            }
            first = false
        }
        return searches
    }

    /// How many runs the searches stored.
    func runCount(_ searches: [Search]) -> Int {
        searches.reduce(0) { $0 + $1.probes.reduce(0) { $0 + $1.runs.count } }
    }

    /// One row per point: its parameters, the fewest replicas, the targets' metrics there (mean over seeds) and
    /// the number of probes.
    func table(_ searches: [Search]) -> String {
        let keys = sweep.dimensions.enumerated().filter { $0.offset != sweep.seedDimension }
        let targetText = plan.targets.map { target in
            [target.atMost.map { "\(target.metric) <= \($0)" }, target.atLeast.map { "\(target.metric) >= \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
        }.joined(separator: ", ")
        let seeds = sweep.dimensions[sweep.seedDimension].values
        var lines =
            "plan \(sweep.file) · \(plan.replicasPath) in \(plan.minimum)...\(plan.maximum) · targets \(targetText) "
            + "on every seed (\(seeds.joined(separator: ", ")))\n"
            + "assumes the targets, once met, stay met with more replicas (monotone); bisection\n"
        var grid = [keys.map(\.element.key) + ["replicas"] + plan.targets.map(\.metric) + ["probes"]]
        for search in searches {
            let values = keys.map { $0.element.values[search.coordinates[$0.offset]] }
            let answerRuns = search.probes.last { $0.replicas == search.answer }?.runs ?? []
            let metrics = plan.targets.map { target in
                answerRuns.isEmpty
                    ? "-"
                    : ComparisonReport.format(
                        answerRuns.map { $0.summary[target.metric] ?? .nan }.reduce(0, +) / Double(answerRuns.count),
                        digits: 4)
            }
            let replicas = search.answer.map(String.init) ?? "> \(plan.maximum)"
            grid.append(values + [replicas] + metrics + [String(search.probes.count)])
        }
        lines += SweepCommand.render(grid)
        return lines
    }
}

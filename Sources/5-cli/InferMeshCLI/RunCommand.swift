import ArgumentParser
import Fleet
import Foundation
import ResultsStore
import Scenarios

/// `infermesh run SCENARIO`: run every policy (and replication), store each run, print the comparison.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run", abstract: "Run a scenario once per policy and replication, store and compare.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, json }

    @Argument(help: "The scenario file (YAML).") var scenario: String
    @Option(
        name: .customLong("set"),
        help: ArgumentHelp(
            "Set a value at a scenario path, in a sweep's syntax (repeatable; later wins).",
            discussion: "Like 'workloads[chat].rate=300/s' or 'pools[0].replicas=12'; see docs/sweeps.md, Paths.",
            valueName: "path=value"))
    var settings: [String] = []
    @Option(help: "The simulated horizon, like 10m; default: the scenario's.") var horizon: String?
    @Option(help: "The warm-up excluded from summaries, like 30s; default: the scenario's.") var warmup: String?
    @Option(name: .customLong("policy"), help: "A routing policy to run (repeatable); default: the scenario's.")
    var policies: [String] = []
    @Option(help: "The run seed; default: the scenario's. Replication r uses seed + r.") var seed: UInt64?
    @Option(help: "Independent replications per policy; default: the scenario's.") var replications: Int?
    @Option(help: "The results database.") var db: String = defaultDatabasePath
    @Option(help: "Output format: table or json.") var format: Format = .table
    @Option(help: "Runs to simulate at once (each run is single-threaded; results do not depend on this).")
    var jobs: Int = 1
    @Flag(help: "No progress line on stderr.") var quiet = false

    func validate() throws {
        if !(1...256).contains(jobs) { throw ValidationError("--jobs must be between 1 and 256, got \(jobs)") }
        if let replications, !(1...1000).contains(replications) {
            throw ValidationError("--replications must be between 1 and 1000, got \(replications)")
        }
    }

    func run() throws {
        let status = perform(io: .standard)
        if status != ExitStatus.ok { throw ExitCode(status) }
    }

    /// Runs, stores and reports; returns the exit status.
    func perform(io: CommandIO) -> Int32 {
        // A sweep file (a base `scenario` and a `grid`) runs as `infermesh sweep` would.
        if Sweep.isSweepFile(path: scenario) {
            guard settings.isEmpty, horizon == nil, warmup == nil, policies.isEmpty, seed == nil, replications == nil
            else {
                io.err(
                    "Error: \(scenario) is a sweep file; --set, --horizon, --warmup, --policy, --seed and "
                        + "--replications apply to scenarios (set them in its grid, or run its base scenario)\n")
                return ExitCode.validationFailure.rawValue
            }
            do {
                let sweep = try SweepCommand.parse(
                    [scenario, "--db", db, "--jobs", String(jobs)] + (quiet ? ["--quiet"] : []))
                return sweep.perform(io: io)
            } catch {
                io.err(SweepCommand.fullMessage(for: error) + "\n")
                return ExitCode.validationFailure.rawValue
            }
        }
        let loaded: Scenario
        do {
            // What-ifs from the command line; the run stores the text with them substituted.
            var overrides = try settings.map { argument throws(ScenarioError) in
                try ScenarioOverride.parse(setting: argument)
            }
            if let horizon { overrides.append(.flag("horizon", horizon)) }
            if let warmup { overrides.append(.flag("warmup", warmup)) }
            loaded = try ScenarioLoader.load(path: scenario, overrides: overrides)
        } catch {
            io.err("\(error)\n")
            return error.exitStatus
        }
        // Checked here, not in `validate()`: a scenario's own scheduling profiles are policies too.
        for policy in policies where loaded.fleet.policyEntry(named: policy) == nil {
            io.err(
                "Error: unknown policy '\(policy)'; known: \(loaded.fleet.policyNames.joined(separator: ", "))\n")
            return ExitCode.validationFailure.rawValue
        }
        let store: ResultsStore
        do {
            store = try ResultsStore(path: db)
        } catch {
            io.err("error: cannot open results database \(db): \(error)\n")
            return ExitStatus.badInput
        }
        let policyCount = policies.isEmpty ? loaded.policies.count : policies.count
        let progress =
            (io.errIsTerminal && !quiet)
            ? ProgressLine(
                io: io, totalRuns: policyCount * (replications ?? loaded.replications),
                horizonSeconds: loaded.fleet.horizon.seconds) : nil
        let runner = ExperimentRunner(
            scenario: loaded, policies: policies.isEmpty ? loaded.policies : policies,
            seed: seed ?? loaded.seed, replications: replications ?? loaded.replications, store: store,
            progress: progress.map { line in { line.update(label: $0, fraction: $1) } })
        do {
            let runs = try runner.runAll(jobs: jobs)
            progress?.clear()
            let report = ComparisonReport(
                scenario: loaded, runs: runs, policies: runner.policies,
                replications: runner.replications, seed: runner.seed)
            io.out(format == .json ? try report.json() : report.table())
            return ExitStatus.ok
        } catch {
            progress?.clear()
            io.err("error: run failed (stored as failed in \(db)): \(error)\n")
            return ExitStatus.internalError
        }
    }
}

/// A one-line progress indicator on stderr, shown only once a run has taken over a second: runs done, the
/// current run's simulated time, events per second, and the estimated time left.
final class ProgressLine: @unchecked Sendable {
    // @unchecked: used from the single thread that drives the runs.
    private let io: CommandIO
    private let totalRuns: Int
    private let horizonSeconds: Double
    /// When this run first reported, and how far it was then: rates and ETAs are measured from there, as the
    /// run's own start is not reported.
    private var started: UInt64
    private var startedFraction = 0.0
    private var lastFraction = 0.0
    private let firstStarted: UInt64
    private var lastPrinted: UInt64 = 0
    private var currentLabel = ""
    private var runsStarted = 0
    private var callbacks = 0
    private var shown = false

    /// The kernel reports progress once per this many events.
    static let eventsPerReport = 65_536.0

    init(
        io: CommandIO, totalRuns: Int = 1, horizonSeconds: Double = 0,
        now: UInt64 = DispatchTime.now().uptimeNanoseconds
    ) {
        self.io = io
        self.totalRuns = totalRuns
        self.horizonSeconds = horizonSeconds
        self.started = now
        self.firstStarted = now
    }

    /// A run reported that it has simulated `fraction` of its horizon, at monotonic time `now` (ns).
    func update(label: String, fraction: Double, now: UInt64 = DispatchTime.now().uptimeNanoseconds) {
        // A new run: another label, or (runs of one label in a sweep) the simulated share going back.
        defer { lastFraction = fraction }
        if label != currentLabel || fraction < lastFraction {
            currentLabel = label
            started = now
            startedFraction = fraction
            runsStarted += 1
            callbacks = 0
            return
        }
        callbacks += 1
        guard now - firstStarted > 1_000_000_000, now - lastPrinted > 200_000_000 else { return }
        lastPrinted = now
        shown = true
        let elapsed = Double(now - started) / 1e9
        let rate = Double(callbacks) * Self.eventsPerReport / max(elapsed, 1e-9)
        // This run's remaining share, then the runs not started, each as long as this one looks to be.
        let perRun = fraction > startedFraction ? elapsed / (fraction - startedFraction) : .nan
        let eta = perRun * (1 - fraction) + perRun * Double(max(0, totalRuns - runsStarted))
        let count = totalRuns > 0 ? "\(runsStarted)/\(totalRuns)" : "\(runsStarted)"
        var text = "\r\u{1B}[K  [\(count)] \(label): "
        text +=
            horizonSeconds > 0
            ? "\(Self.clock(fraction * horizonSeconds)) of \(Self.clock(horizonSeconds)) simulated"
            : "\(Int(fraction * 100))% simulated"
        text += " · \(Self.compact(rate)) events/s"
        if eta.isFinite { text += " · ETA \(Self.clock(eta))" }
        io.err(text)
    }

    func clear() { if shown { io.err("\r\u{1B}[K") } }

    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600
            ? "\(total / 3600)h\(total % 3600 / 60)m" : total >= 60 ? "\(total / 60)m\(total % 60)s" : "\(total)s"
    }

    static func compact(_ value: Double) -> String {
        value >= 1e6
            ? String(format: "%.1fM", value / 1e6)
            : value >= 1e3 ? String(format: "%.0fk", value / 1e3) : String(Int(value))
    }
}

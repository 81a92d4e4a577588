import Analysis
import ArgumentParser
import Foundation
import ResultsStore
import Scenarios

/// `infermesh compare [RUN_ID ...]`: stored runs side by side, by policy, with confidence intervals over
/// replications and the difference from a baseline policy.
struct CompareCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare stored runs by policy: latency percentiles, throughput, SLOs, utilization, errors.",
        discussion: """
            Without run ids: the latest runs of each policy (and replication) of --scenario, or of the scenario
            run last. With several replications per policy, cells are the mean ± the 95% Student-t half-width.
            With a baseline (default: the first policy), other policies show their relative difference from
            it, starred when Welch's t-test over replications finds it significant at 95%.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable { case table, markdown, json, csv }

    @Argument(help: "Run ids to compare (default: the latest runs of a scenario).") var runIDs: [Int64] = []
    @Option(help: "The scenario whose latest runs to compare (by name).") var scenario: String?
    @Option(
        help:
            "The policy (a policy@sha column, with several scenario versions) others are compared with (default: the first)."
    )
    var baseline: String?
    @Option(help: "Output format: table, markdown, json or csv.") var format: Format = .table
    @OptionGroup var database: DatabaseOption

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        do {
            let runs = try select(store)
            guard let latest = runs.max(by: { $0.id < $1.id }) else {
                io.err("error: no complete runs to compare in \(db)\n")
                return ExitCode.validationFailure.rawValue
            }
            let loaded = try ScenarioLoader.parse(
                latest.scenarioText, file: "run \(latest.id) (\(latest.scenarioName))")
            // Runs of different scenario versions (a sweep's points, an edited file) are different
            // columns, never replications of one another: their columns are `policy@sha`.
            let versions = Self.versions(of: runs)
            if versions.count > 1 {
                io.err(
                    "note: runs of \(versions.count) scenario versions; columns are policy@sha:\n"
                        + versions.map {
                            "  \($0.label) = \($0.name), runs \($0.ids.map(String.init).joined(separator: ", "))\n"
                        }
                        .joined())
            }
            let completed = try zip(runs, RunSelectionOptions.columns(of: runs)).map { run, column in
                CompletedRun(
                    runID: run.id, policy: column, seed: run.seed, replication: run.replication,
                    digest: run.digest ?? "", events: UInt64(run.events ?? 0), wallSeconds: run.wallSeconds ?? 0,
                    summary: RunSummary(
                        metrics: try store.summaries(runID: run.id).map { ($0.metric, $0.value) }))
            }
            var policies: [String] = []
            for run in completed where !policies.contains(run.policy) { policies.append(run.policy) }
            if let baseline, !policies.contains(baseline) {
                io.err(
                    "error: baseline '\(baseline)' is not among the compared policies: \(policies.joined(separator: ", "))\n"
                )
                return ExitCode.validationFailure.rawValue
            }
            let replications = policies.map { policy in completed.filter { $0.policy == policy }.count }.max() ?? 1
            var report = ComparisonReport(
                scenario: loaded, runs: completed, policies: policies, replications: replications,
                seed: runs.map(\.seed).min() ?? 0)
            report.baseline = baseline ?? (policies.count > 1 ? policies[0] : nil)
            report.detailed = true
            switch format {
            case .table: io.out(report.table())
            case .markdown: io.out(report.markdown())
            case .json: io.out(try report.json())
            case .csv: io.out(report.csv())
            }
            return ExitStatus.ok
        } catch let error as CompareError {
            io.err("error: \(error.message)\n")
            return ExitCode.validationFailure.rawValue
        } catch {
            io.err("error: \(error)\n")
            return (error as? ScenarioError)?.exitStatus ?? ExitStatus.internalError
        }
    }

    struct CompareError: Error { let message: String }

    /// The scenario versions (by SHA-256) among `runs`, in order of first appearance, with their runs.
    static func versions(of runs: [StoredRun]) -> [(label: String, name: String, ids: [Int64])] {
        var order: [String] = []
        var ids: [String: [Int64]] = [:]
        var names: [String: String] = [:]
        for run in runs {
            if ids[run.scenarioSHA256] == nil { order.append(run.scenarioSHA256) }
            ids[run.scenarioSHA256, default: []].append(run.id)
            names[run.scenarioSHA256] = run.scenarioName
        }
        return order.map { sha in (String(sha.prefix(8)), names[sha]!, ids[sha]!) }
    }

    /// The runs asked for: by id, or the latest of each (policy, replication) of one scenario version.
    func select(_ store: ResultsStore) throws -> [StoredRun] {
        if !runIDs.isEmpty {
            return try runIDs.map { id in
                guard let run = try store.run(id: id) else { throw CompareError(message: "no run \(id) in \(db)") }
                guard run.status == .complete else {
                    throw CompareError(message: "run \(id) is \(RunLiveness.system().shownStatus(run)), not complete")
                }
                return run
            }
        }
        let complete = try store.runs(status: .complete)
        guard let name = scenario ?? complete.last?.scenarioName else { return [] }
        let ofScenario = complete.filter { $0.scenarioName == name }
        guard let newest = ofScenario.last else {
            let known = Set(complete.map(\.scenarioName)).sorted().joined(separator: ", ")
            throw CompareError(message: "no complete runs of scenario '\(name)'; stored: \(known)")
        }
        // The scenario as last run: its latest run of each policy and replication.
        var latest: [String: StoredRun] = [:]
        for run in ofScenario where run.scenarioSHA256 == newest.scenarioSHA256 {
            latest["\(run.policy)#\(run.replication)"] = run
        }
        return latest.values.sorted { $0.id < $1.id }
    }
}

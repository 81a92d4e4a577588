import Analysis
import ArgumentParser
import Foundation
import ResultsStore
import Scenarios

/// The runs `compare` and `report` put side by side, and the policy the others are measured against:
/// `RUN_ID …`, or the latest runs of `--scenario` (or of the scenario run last), and `--baseline`.
struct ComparisonSelection: ParsableArguments {
    @Argument(help: "Run ids to compare (default: the latest runs of a scenario).") var runIDs: [Int64] = []
    @Option(help: "The scenario whose latest runs to compare (by name).") var scenario: String?
    @Option(
        help:
            "The policy (a policy@sha column, with several scenario versions) others are compared with (default: the first)."
    )
    var baseline: String?

    /// Why the selection cannot be compared: a usage error (64).
    struct Failure: Error { let message: String }

    /// A scenario version among the compared runs: the column suffix, the scenario's name and its runs.
    typealias Version = (label: String, name: String, ids: [Int64])

    /// The runs asked for: by id, or the latest of each (policy, replication) of one scenario version; never
    /// empty.
    func select(_ store: ResultsStore, db: String) throws -> [StoredRun] {
        if !runIDs.isEmpty {
            return try runIDs.map { id in
                guard let run = try store.run(id: id) else { throw Failure(message: "no run \(id) in \(db)") }
                guard run.status == .complete else {
                    throw Failure(message: "run \(id) is \(RunLiveness.system().shownStatus(run)), not complete")
                }
                return run
            }
        }
        let complete = try store.runs(status: .complete)
        guard let name = scenario ?? complete.last?.scenarioName else {
            throw Failure(message: "no complete runs to compare in \(db)")
        }
        let ofScenario = complete.filter { $0.scenarioName == name }
        guard let newest = ofScenario.last else {
            let known = Set(complete.map(\.scenarioName)).sorted().joined(separator: ", ")
            throw Failure(message: "no complete runs of scenario '\(name)'; stored: \(known)")
        }
        // The scenario as last run: its latest run of each policy and replication.
        var latest: [String: StoredRun] = [:]
        for run in ofScenario where run.scenarioSHA256 == newest.scenarioSHA256 {
            latest["\(run.policy)#\(run.replication)"] = run
        }
        return latest.values.sorted { $0.id < $1.id }
    }

    /// The comparison of `runs` (not empty) as `compare` shows it: every percentile, and the baseline's
    /// differences. The scenario is the latest run's, parsed from its stored text.
    func comparison(of runs: [StoredRun], store: ResultsStore) throws -> ComparisonReport {
        let latest = runs.max { $0.id < $1.id }!
        var loaded = try ScenarioLoader.parse(latest.scenarioText, file: "run \(latest.id) (\(latest.scenarioName))")
        // The identity the runs were stored with: the files the text names may have changed on disk since.
        loaded.sha256 = latest.scenarioSHA256
        let completed = try zip(runs, RunSelectionOptions.columns(of: runs)).map { run, column in
            CompletedRun(
                runID: run.id, policy: column, seed: run.seed, replication: run.replication,
                digest: run.digest ?? "", events: UInt64(run.events ?? 0), wallSeconds: run.wallSeconds ?? 0,
                summary: RunSummary(metrics: try store.summaries(runID: run.id).map { ($0.metric, $0.value) }))
        }
        var policies: [String] = []
        for run in completed where !policies.contains(run.policy) { policies.append(run.policy) }
        if let baseline, !policies.contains(baseline) {
            throw Failure(
                message:
                    "baseline '\(baseline)' is not among the compared policies: \(policies.joined(separator: ", "))")
        }
        let replications = policies.map { policy in completed.filter { $0.policy == policy }.count }.max() ?? 1
        var report = ComparisonReport(
            scenario: loaded, runs: completed, policies: policies, replications: replications,
            seed: runs.map(\.seed).min() ?? 0)
        report.baseline = baseline ?? (policies.count > 1 ? policies[0] : nil)
        report.detailed = true
        return report
    }

    /// The scenario versions (by SHA-256) among `runs`, in order of first appearance, with their runs.
    static func versions(of runs: [StoredRun]) -> [Version] {
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
}

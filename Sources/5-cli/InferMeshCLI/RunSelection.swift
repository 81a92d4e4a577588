import ArgumentParser
import Foundation
import ResultsStore

/// The runs `export` and `plot` read: `--db`, `--run ID …`, `--scenario NAME`.
struct RunSelectionOptions: ParsableArguments {
    @OptionGroup var database: DatabaseOption
    @Option(name: .customLong("run"), help: "A run id to include (repeatable); default: every complete run.")
    var runIDs: [Int64] = []
    @Option(help: "Only runs of this scenario name.") var scenario: String?

    /// The selected complete runs of `store`, in id order.
    ///
    /// An unknown or incomplete run id, a run of another scenario than `--scenario`, or a selection with no runs
    /// is a usage error (64).
    func select(from store: ResultsStore) throws(ReadFailure) -> [StoredRun] {
        let usage = ExitCode.validationFailure.rawValue
        let db = database.db
        let all: [StoredRun]
        do {
            all = try store.runs()
        } catch {
            throw ReadFailure(
                status: ExitStatus.badInput, message: "error: cannot read results database \(db): \(error)")
        }
        var runs: [StoredRun]
        if runIDs.isEmpty {
            runs = all.filter { $0.status == .complete }
        } else {
            let byID = Dictionary(uniqueKeysWithValues: all.map { ($0.id, $0) })
            runs = []
            for id in runIDs.sorted() where !runs.contains(where: { $0.id == id }) {
                guard let run = byID[id] else {
                    throw ReadFailure(status: usage, message: "Error: no run \(id) in \(db)")
                }
                guard run.status == .complete else {
                    throw ReadFailure(
                        status: usage,
                        message: "Error: run \(id) is \(RunLiveness.system().shownStatus(run)), not complete")
                }
                if let scenario, run.scenarioName != scenario {
                    throw ReadFailure(
                        status: usage,
                        message: "Error: run \(id) is of scenario '\(run.scenarioName)', not '\(scenario)'")
                }
                runs.append(run)
            }
        }
        if let scenario { runs = runs.filter { $0.scenarioName == scenario } }
        guard !runs.isEmpty else {
            let which = scenario.map { " of scenario '\($0)'" } ?? ""
            let known = Array(Set(all.map(\.scenarioName))).sorted().joined(separator: ", ")
            throw ReadFailure(
                status: usage,
                message: "Error: no complete runs\(which) in \(db)" + (known.isEmpty ? "" : "; scenarios: \(known)"))
        }
        return runs
    }

    /// The column of each run, aligned with `runs`: its policy, or `policy@sha` (the scenario's first 8 hex
    /// digits) when the runs span several scenario versions, so that runs of different versions (a sweep's
    /// points, an edited file) are never pooled as replications of one policy.
    static func columns(of runs: [StoredRun]) -> [String] {
        let versioned = Set(runs.map(\.scenarioSHA256)).count > 1
        return runs.map { versioned ? "\($0.policy)@\($0.scenarioSHA256.prefix(8))" : $0.policy }
    }

    /// The distinct columns of `runs` in the order they first appear (run id order): the order of colors.
    static func policies(of runs: [StoredRun]) -> [String] {
        var seen: [String] = []
        for column in columns(of: runs) where !seen.contains(column) { seen.append(column) }
        return seen
    }
}

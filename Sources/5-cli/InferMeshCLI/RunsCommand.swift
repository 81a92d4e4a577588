import ArgumentParser
import Foundation
import ResultsStore

/// `infermesh runs`: the stored runs, one a line, so their ids can be handed to `compare`, `reproduce`,
/// `export --run` and `plot --run`.
struct RunsCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the stored runs: id, scenario, policy, seed, status, version, digest and wall time.")

    @OptionGroup var database: DatabaseOption
    @Option(help: "Only runs of this scenario name.") var scenario: String?
    @Option(help: "Only runs of this policy.") var policy: String?
    @Option(help: "Only runs with this status.") var status: Status?

    enum Status: String, ExpressibleByArgument, CaseIterable {
        case running, complete, failed
    }

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        do {
            let runs = try store.runs(
                scenarioName: scenario, policy: policy, status: status.flatMap { RunStatus(rawValue: $0.rawValue) })
            io.out(Self.table(runs))
            return ExitStatus.ok
        } catch {
            io.err("error: cannot read results database \(db): \(error)\n")
            return ExitStatus.badInput
        }
    }

    /// Left-aligned columns, two spaces apart; a failed run's error after its row.
    static func table(_ runs: [StoredRun]) -> String {
        let header = ["id", "scenario", "policy", "seed", "rep", "status", "version", "created", "wall s", "digest"]
        let rows = runs.map { run in
            [
                String(run.id), run.scenarioName, run.policy, String(run.seed), String(run.replication),
                run.status.rawValue, run.toolVersion, run.createdAt,
                run.wallSeconds.map { String(format: "%.2f", $0) } ?? "-", run.digest ?? "-",
            ]
        }
        // The shared table, with a failed run's error on the line after its row.
        let lines = ListCommand.table(header, rows).split(separator: "\n", omittingEmptySubsequences: false)
        var text = String(lines[0]) + "\n"
        for (run, line) in zip(runs, lines.dropFirst()) {
            text += line + "\n"
            if let error = run.error { text += "    error: \(error)\n" }
        }
        return text
    }
}

import ArgumentParser
import Foundation
import ResultsStore

/// `infermesh runs`: the stored runs, one a line, so their ids can be handed to `compare`, `reproduce`,
/// `export --run` and `plot --run`. A `running` run whose writer is gone shows as `abandoned`; `--prune`
/// deletes abandoned and failed runs.
struct RunsCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List the stored runs: id, scenario, policy, seed, status, version, digest and wall time.",
        discussion: """
            A running run whose writer is gone shows as `abandoned`: its process, on this host, no longer \
            exists, or it has shown no sign of life (writers beat every \
            \(Int(RunLiveness.heartbeatInterval)) s) for --stale-after seconds. Readers never use it.
            """)

    @OptionGroup var database: DatabaseOption
    @Option(help: "Only runs of this scenario name.") var scenario: String?
    @Option(help: "Only runs of this policy.") var policy: String?
    @Option(help: "Only runs with this status (as shown).") var status: Status?
    @Option(help: "Seconds without a heartbeat after which a running run from any host is abandoned.")
    var staleAfter: Double = RunLiveness.defaultStaleAfter
    @Flag(help: "Delete abandoned and failed runs with all their rows, one transaction per run, and list them.")
    var prune = false

    enum Status: String, ExpressibleByArgument, CaseIterable {
        case running, complete, failed, abandoned
    }

    func validate() throws {
        guard staleAfter.isFinite, staleAfter > 0 else {
            throw ValidationError("--stale-after must be a positive number of seconds, got \(staleAfter)")
        }
    }

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let liveness = RunLiveness.system(staleAfter: staleAfter)
        if prune {
            do {
                let pruned = try store.prune(liveness)
                for run in pruned { io.out("pruned run \(run.id) (\(run.status)): \(run.rows) rows\n") }
                io.out("pruned \(pruned.count) run(s)\n")
                return ExitStatus.ok
            } catch {
                io.err("error: cannot prune results database \(db): \(error)\n")
                return ExitStatus.internalError
            }
        }
        do {
            let runs = try store.runs(scenarioName: scenario, policy: policy).filter { run in
                status.map { liveness.shownStatus(run) == $0.rawValue } ?? true
            }
            io.out(Self.table(runs, liveness: liveness))
            return ExitStatus.ok
        } catch {
            io.err("error: cannot read results database \(db): \(error)\n")
            return ExitStatus.badInput
        }
    }

    /// Left-aligned columns, two spaces apart; a failed run's error, or an abandoned run's writer, after its row.
    static func table(_ runs: [StoredRun], liveness: RunLiveness) -> String {
        let header = ["id", "scenario", "policy", "seed", "rep", "status", "version", "created", "wall s", "digest"]
        let rows = runs.map { run in
            [
                String(run.id), run.scenarioName, run.policy, String(run.seed), String(run.replication),
                liveness.shownStatus(run), run.toolVersion, run.createdAt,
                run.wallSeconds.map { String(format: "%.2f", $0) } ?? "-", run.digest ?? "-",
            ]
        }
        // The shared table, with a note on the line after a row where there is one.
        let lines = ListCommand.table(header, rows).split(separator: "\n", omittingEmptySubsequences: false)
        var text = String(lines[0]) + "\n"
        for (run, line) in zip(runs, lines.dropFirst()) {
            text += line + "\n"
            if let error = run.error { text += "    error: \(error)\n" }
            if liveness.isAbandoned(run) {
                let writer = run.writer.map { "process \($0.pid) on \($0.host)" } ?? "an unrecorded writer"
                text += "    abandoned: written by \(writer), last sign of life \(run.heartbeatAt ?? run.createdAt)\n"
            }
        }
        return text
    }
}

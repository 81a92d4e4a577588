import Analysis
import ArgumentParser
import Fleet
import Foundation
import ResultsStore
import Scenarios

/// `infermesh reproduce RUN_ID`: re-run a stored run from its stored scenario text, seed and policy, and check
/// that it gives the same digest.
struct ReproduceCommand: ResultsReadingCommand {
    static let configuration = CommandConfiguration(
        commandName: "reproduce",
        abstract: "Re-run a stored run and check that its digest is the same.",
        discussion: """
            Exit status 0 when the digest matches; 1 when it differs (with a note when the tool version changed
            since the run was stored). Files the scenario names (traces, data files, model configs, timing
            profiles) are read again, relative paths from the current directory: each one whose SHA-256 differs
            from the one stored with the run is named, and a missing one is an error (exit status 66). With
            --window START..END (durations, like 3m..5m), the re-run's summary is computed over requests arriving
            in that window, for zooming into a spike; nothing is stored.
            """)

    @Argument(help: "The run to reproduce.") var runID: Int64
    @Option(help: "Report only requests arriving in this window, like 3m..5m.") var window: String?
    @OptionGroup var database: DatabaseOption
    @Flag(help: "No progress line on stderr.") var quiet = false

    func perform(store: ResultsStore, io: CommandIO) -> Int32 {
        let bounds: (SimTime, SimTime)?
        if let window {
            guard let parsed = Self.parseWindow(window) else {
                io.err("error: --window expects START..END with durations, like 3m..5m; got '\(window)'\n")
                return ExitCode.validationFailure.rawValue
            }
            bounds = parsed
        } else {
            bounds = nil
        }
        do {
            guard let stored = try store.run(id: runID) else {
                io.err("error: no run \(runID) in \(db)\n")
                return ExitCode.validationFailure.rawValue
            }
            guard stored.status == .complete, let digest = stored.digest else {
                io.err(
                    "error: run \(runID) is \(RunLiveness.system().shownStatus(stored)); only complete runs can be "
                        + "reproduced\n")
                return ExitCode.validationFailure.rawValue
            }
            let storedFiles = try store.runFiles(runID: runID)
            let scenario: Scenario
            do throws(ScenarioError) {
                scenario = try ScenarioLoader.parse(stored.scenarioText, file: "run \(runID) (\(stored.scenarioName))")
            } catch {
                let notes = error.kind == .fileNotFound ? Self.missingFileNotes(storedFiles, runID: runID) : ""
                io.err("error: \(error)\n" + notes)
                return error.exitStatus
            }
            let changes = Self.fileChanges(stored: storedFiles, now: scenario.namedFiles, runID: runID)
            let progress = (io.errIsTerminal && !quiet) ? ProgressLine(io: io) : nil
            // Only the summary of the window is wanted: requests stream through it and are not kept.
            var zoomedSpec = scenario.fleet
            if let (start, end) = bounds {
                zoomedSpec.warmup = start
                zoomedSpec.horizon = min(end, scenario.fleet.horizon)
            }
            let accumulator = SummaryAccumulator(spec: zoomedSpec)
            let output = try FleetRun.execute(
                scenario.fleet, policy: stored.policy, seed: stored.seed, sinks: bounds == nil ? [] : [accumulator],
                keepRequests: false,
                progress: progress.map { line in { line.update(label: stored.policy, fraction: $0) } })
            progress?.clear()
            let same = output.digest.hex == digest
            let versionNote =
                stored.toolVersion == ToolVersion.current
                ? "" : " (stored with infermesh \(stored.toolVersion), now \(ToolVersion.current))"
            var report =
                "run \(runID): \(stored.scenarioName), policy \(stored.policy), seed \(stored.seed)\n"
                + (same
                    ? "reproduced: digest \(digest) matches\(versionNote)\n"
                    : "NOT reproduced: digest \(output.digest.hex) differs from the stored \(digest)\(versionNote)\n")
            report += changes.map { $0 + "\n" }.joined()
            // Runs stored before `run_file` (v6) with files have no hashes to compare: nothing can be said of them.
            let filesKnown = !storedFiles.isEmpty || scenario.namedFiles.isEmpty
            if same && !changes.isEmpty {
                report += "the digest matches all the same: the change does not alter this run\n"
            } else if !same && changes.isEmpty && filesKnown {
                report +=
                    scenario.namedFiles.isEmpty
                    ? "the scenario text is the stored one and names no files, so the difference comes from the "
                        + "simulator\n"
                    : "the scenario text and its files are unchanged, so the difference comes from the simulator\n"
            }
            io.out(report)
            if let (start, _) = bounds {
                let summary = accumulator.summary(of: output)
                let report = ComparisonReport(
                    scenario: scenario,
                    runs: [
                        CompletedRun(
                            runID: runID, policy: stored.policy, seed: stored.seed, replication: stored.replication,
                            digest: output.digest.hex, events: output.events, wallSeconds: output.loopWallSeconds,
                            summary: summary)
                    ], policies: [stored.policy], replications: 1, seed: stored.seed)
                io.out("requests arriving in [\(start), \(zoomedSpec.horizon)):\n" + report.table())
            }
            return same ? ExitStatus.ok : ExitStatus.internalError
        } catch {
            io.err("error: \(error)\n")
            return (error as? ScenarioError)?.exitStatus ?? ExitStatus.internalError
        }
    }

    /// A line per file whose bytes differ from those run `runID` read: `file PATH changed since run N: stored
    /// sha256 …, now …`, in the stored order. The same text names the same files, so they pair by path.
    static func fileChanges(stored: [RunFileRow], now: [NamedFile], runID: Int64) -> [String] {
        stored.compactMap { file in
            guard let current = now.first(where: { $0.path == file.path }), current.sha256 != file.sha256 else {
                return nil
            }
            return "file \(file.path) changed since run \(runID): stored sha256 \(file.sha256.prefix(12))…, "
                + "now \(current.sha256.prefix(12))…"
        }
    }

    /// For each stored file not found where reproduce looks (its path as written, from the current directory),
    /// where the run read it: a run started elsewhere resolved relative paths from its scenario file's directory.
    static func missingFileNotes(_ stored: [RunFileRow], runID: Int64) -> String {
        stored.filter { $0.resolvedPath != $0.path && !FileManager.default.fileExists(atPath: $0.path) }.map { file in
            "note: run \(runID) read `\(file.path)` at `\(file.resolvedPath)` (sha256 \(file.sha256.prefix(12))…); "
                + "relative paths in a stored scenario resolve from the current directory\n"
        }.joined()
    }

    /// `START..END`, each a duration of the scenario format.
    static func parseWindow(_ text: String) -> (SimTime, SimTime)? {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2, let start = ScenarioLoader.duration(parts[0]),
            let end = ScenarioLoader.duration(parts[1]), end > start
        else { return nil }
        return (start, end)
    }
}

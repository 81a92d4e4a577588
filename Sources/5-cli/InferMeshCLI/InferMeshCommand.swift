public import ArgumentParser

/// The `infermesh` command: run scenarios, validate them, list what is registered.
public struct InferMeshCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "infermesh",
        abstract: "Deterministic simulator for routing LLM inference traffic.",
        discussion: """
            Exit codes: 0 ok, 64 usage error, 65 bad scenario or input, 66 missing file, 1 internal error.
            Results go to SQLite (default \(defaultDatabasePath)).
            """,
        version: ToolVersion.current,
        subcommands: [
            RunCommand.self, RunsCommand.self, CompareCommand.self, ReproduceCommand.self, ExportCommand.self,
            PlotCommand.self, ReportCommand.self,
            SweepCommand.self, MergeCommand.self, ValidateCommand.self, ListCommand.self, TimingCommand.self,
            CalibrateCommand.self, ValidationReportCommand.self,
        ])

    public init() {}

    /// Parses `arguments` (without the program name), runs the command and returns its exit status.
    /// The executable and the tests both enter here, so they share one path.
    public static func perform(_ arguments: [String], io: CommandIO) -> Int32 {
        do {
            var command = try parseAsRoot(arguments)
            switch command {
            case let run as RunCommand: return run.perform(io: io)
            case let reader as any ResultsReadingCommand: return reader.perform(io: io)
            case let sweep as SweepCommand: return sweep.perform(io: io)
            case let merge as MergeCommand: return merge.perform(io: io)
            case let validate as ValidateCommand: return ValidateCommand.perform(path: validate.scenario, io: io)
            case let list as ListCommand:
                io.out(ListCommand.render(list.registry))
                return ExitStatus.ok
            case let timing as TimingCommand: return timing.perform(io: io)
            case let calibrate as CalibrateCommand: return calibrate.perform(io: io)
            case let report as ValidationReportCommand: return report.perform(io: io)
            default:
                try command.run()
                return ExitStatus.ok
            }
        } catch {
            let code = exitCode(for: error)
            let message = fullMessage(for: error)
            if code == .success {
                if !message.isEmpty { io.out(message + "\n") }
            } else {
                io.err(message + "\n")
            }
            return code.rawValue
        }
    }
}

/// The results database used when `--db` is not given.
public let defaultDatabasePath = "results/infermesh.sqlite"

/// The tool's version, stored with every run. Bump it when a change alters results.
public enum ToolVersion {
    public static let current = "0.4.0"
}

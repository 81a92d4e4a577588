public import ArgumentParser

/// The `infermesh` command: run scenarios, validate them, list what is registered.
public struct InferMeshCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "infermesh",
        abstract: "Deterministic simulator for routing LLM inference traffic.",
        discussion: """
            Exit codes: 0 ok, 65 bad scenario or input, 66 missing file, 1 internal error.
            Results go to SQLite (default \(defaultDatabasePath)).
            """,
        version: ToolVersion.current,
        subcommands: [RunCommand.self, ValidateCommand.self, ListCommand.self])

    public init() {}
}

/// The results database used when `--db` is not given.
public let defaultDatabasePath = "results/infermesh.sqlite"

/// The tool's version, stored with every run. Bump it when a change alters results.
public enum ToolVersion {
    public static let current = "0.1.0"
}

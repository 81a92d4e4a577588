import ArgumentParser
import Foundation
import TestSupport
import Testing

@testable import InferMeshCLI

/// Every command that reads the results database is a `ResultsReadingCommand`, and each opens it the same way.
@Suite struct ResultsReadingCommandTests {
    /// What each reader needs besides `--db`.
    static let required: [String: [String]] = ["reproduce": ["1"]]

    /// The subcommands that conform, in the root command's order.
    static var readers: [any ResultsReadingCommand.Type] {
        InferMeshCommand.configuration.subcommands.compactMap { $0 as? any ResultsReadingCommand.Type }
    }

    @Test func theReadersAreExactlyTheCommandsThatReadTheDatabase() {
        #expect(
            Self.readers.map { $0.configuration.commandName } == [
                "runs", "compare", "reproduce", "export", "plot", "report",
            ])
    }

    @Test func everyReaderReportsAMissingDatabaseTheSameWayAndCreatesNone() throws {
        try TemporaryDirectory.with("infermesh-readers") { folder in
            let missing = folder.appendingPathComponent("none.sqlite").path
            for reader in Self.readers {
                let name = reader.configuration.commandName ?? ""
                let arguments = [name] + (Self.required[name] ?? []) + ["--db", missing]
                let result = CLITests.invoke(arguments)
                #expect(result.status == 66, "\(name)")
                #expect(result.out == "", "\(name)")
                #expect(
                    result.err
                        == "error: no results database at \(missing) (run `infermesh run` first, or pass --db)\n",
                    "\(name)")
                // The executable's path, `run()`, ends with the same exit code.
                var command = try InferMeshCommand.parseAsRoot(arguments)
                #expect(throws: ExitCode(66), "\(name)") { try command.run() }
                #expect(!FileManager.default.fileExists(atPath: missing), "\(name)")
            }
        }
    }

    @Test func everyReaderReportsAFileThatIsNotADatabaseTheSameWay() throws {
        try TemporaryDirectory.with("infermesh-readers") { folder in
            let garbage = folder.appendingPathComponent("notes.sqlite").path
            try String(repeating: "not a database\n", count: 100).write(
                toFile: garbage, atomically: true, encoding: .utf8)
            for reader in Self.readers {
                let name = reader.configuration.commandName ?? ""
                let result = CLITests.invoke([name] + (Self.required[name] ?? []) + ["--db", garbage])
                #expect(result.status == 65, "\(name)")
                #expect(result.out == "", "\(name)")
                #expect(result.err.hasPrefix("error: cannot read results database \(garbage): "), "\(name)")
            }
        }
    }

    @Test func everyReaderTakesTheDatabaseFromDb() throws {
        for reader in Self.readers {
            let name = reader.configuration.commandName ?? ""
            let command = try InferMeshCommand.parseAsRoot([name] + (Self.required[name] ?? []) + ["--db", "x.sqlite"])
            #expect((command as? any ResultsReadingCommand)?.db == "x.sqlite", "\(name)")
            let defaulted = try InferMeshCommand.parseAsRoot([name] + (Self.required[name] ?? []))
            #expect((defaulted as? any ResultsReadingCommand)?.db == defaultDatabasePath, "\(name)")
        }
    }
}
